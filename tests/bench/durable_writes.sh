#!/usr/bin/env bash
# Durable entity writes: POST /v1/books/{id}/stock {"delta":1} spread over 10,000 books at high
# concurrency, synchronous_commit on, as the bootstrap admin (each request: token check, session
# check on the admin's session entity, then the write). Every 200 is committed. Prints writes/s, p50/p99, the mean
# group-commit batch (snapshots per transaction) and commit latency from /metrics.
# Target: 10,000 acknowledged durable writes/s, p99 < 25 ms.
#   tests/bench/durable_writes.sh [seconds=20] [connections=256] [extra node flags...]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECONDS_RUN=${1:-20}; CONNS=${2:-256}; shift $(( $# > 2 ? 2 : $# ))
BOOKS=10000

bench_setup
bench_database bookstore_bench 100000
psql "$BENCH_DSN" -Atqc "SELECT id FROM books ORDER BY id LIMIT $BOOKS" >"$WORK/ids.txt"
SYNC=$(psql "$BENCH_DSN" -Atqc "SHOW synchronous_commit")

start_node --gateway.threads="${GATEWAY_THREADS:-2}" "$@"
TOKEN=$(login_token "$ADMIN_EMAIL" "$ADMIN_PASSWORD")

cat >"$WORK/write.lua" <<LUA
local ids = {}
for line in io.lines("$WORK/ids.txt") do ids[#ids + 1] = line end
math.randomseed(os.time())
wrk.method = "POST"
wrk.body = '{"delta":1}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $TOKEN"
request = function()
  return wrk.format(nil, "/v1/books/" .. ids[math.random(#ids)] .. "/stock")
end
LUA

run_wrk warm "http://127.0.0.1:$NODE_PORT" "$WORK/write.lua" "$CONNS" 5
rows0=$(metric bookstore_snapshot_batch_size_sum); tx0=$(metric bookstore_snapshot_batch_size_count)
sec0=$(metric bookstore_snapshot_commit_seconds_sum)
run_wrk writes "http://127.0.0.1:$NODE_PORT" "$WORK/write.lua" "$CONNS" "$SECONDS_RUN"
rows1=$(metric bookstore_snapshot_batch_size_sum); tx1=$(metric bookstore_snapshot_batch_size_count)
sec1=$(metric bookstore_snapshot_commit_seconds_sum)

printf '%-34s %12s %9s %9s  %s\n' "durable writes (c=$CONNS, $BOOKS books)" "writes/s" "p50 ms" \
  "p99 ms" "errors"
printf '%-34s %12s %9s %9s  %s\n' "POST /v1/books/{id}/stock" "$(wrk_field writes rps)" \
  "$(wrk_field writes p50)" "$(wrk_field writes p99)" "$(wrk_field writes errors)"
python3 - "$rows0" "$rows1" "$tx0" "$tx1" "$sec0" "$sec1" <<PY
import sys
r0, r1, t0, t1, s0, s1 = map(float, sys.argv[1:])
tx = t1 - t0
print(f"transactions: {tx:.0f}, snapshots written: {r1 - r0:.0f}, "
      f"mean group-commit batch: {(r1 - r0) / tx:.1f} snapshots, "
      f"mean commit: {(s1 - s0) / tx * 1000:.2f} ms")
print("synchronous_commit: $SYNC   (target: 10000 writes/s, p99 < 25 ms)")
PY
