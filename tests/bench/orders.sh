#!/usr/bin/env bash
# Checkout: POST /v1/orders (one book, quantity 1, tok_visa, each request its own Idempotency-Key)
# over 10,000 books at high concurrency with the simulated provider. Every 201 is a confirmed,
# durable order: reserved, paid, committed, each transition snapshotted. Prints confirmed
# orders/s, p50/p99, the other answers, and in the same run the naive baseline: pgbench doing the
# same durable writes as one order (order, stock, payment, event) in one transaction per order.
# Last, the CPU each confirmed order took: the node by thread (CAF 0.17 leaves its scheduler
# worker named caf.multiplexer; bookstore-node: the gateway; caf.actor: detached actors, i.e. the
# snapshot writer and readers) and PostgreSQL.
# Target: 2,000 confirmed orders/s with p99 < 100 ms, and more orders/s than the baseline.
#   tests/bench/orders.sh [seconds=20] [connections=128] [extra node flags...]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECONDS_RUN=${1:-20}; CONNS=${2:-128}; shift $(( $# > 2 ? 2 : $# ))
BOOKS=10000

bench_setup
bench_database bookstore_bench 100000
psql "$BENCH_DSN" -Atqc "SELECT id FROM books ORDER BY id LIMIT $BOOKS" >"$WORK/ids.txt"
# Every run starts from the same state, as the baseline's tables are made afresh each run: the
# catalog and its stock, no orders nor payments of earlier runs (they grew the database run by
# run: at 2.9 million orders kept, orders/s had fallen by a quarter).
psql "$BENCH_DSN" -q -c "DELETE FROM entity_snapshots WHERE entity_type IN ('order', 'payment_intent')" \
  -c "TRUNCATE orders" -c "VACUUM FULL entity_snapshots" -c "ANALYZE entity_snapshots"
SYNC=$(psql "$BENCH_DSN" -Atqc "SHOW synchronous_commit")

# No order of the run goes to manual review (the fraud rule is measured by the tests).
start_node --gateway.threads="${GATEWAY_THREADS:-2}" --checkout.review-threshold=1000000000000 "$@"
TOKEN=$(login_token "$ADMIN_EMAIL" "$ADMIN_PASSWORD")

# Enough stock that no order of the run (nor of the next few) is refused for it.
python3 - "$NODE_PORT" "$TOKEN" "$WORK/ids.txt" <<'PY'
import http.client, json, sys
port, token, ids = sys.argv[1], sys.argv[2], open(sys.argv[3]).read().split()
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
for book in ids:
    conn.request("GET", f"/v1/books/{book}")
    available = json.loads(conn.getresponse().read())["available"]
    if available < 5000:
        conn.request("POST", f"/v1/books/{book}/stock", json.dumps({"delta": 100000 - available}),
                     {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})
        r = conn.getresponse(); r.read()
        assert r.status == 200, r.status
PY

cat >"$WORK/order.lua" <<LUA
local ids = {}
for line in io.lines("$WORK/ids.txt") do ids[#ids + 1] = line end
local threads = {}
local counter = 0
setup = function(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
init = function()
  math.randomseed(os.time() * 1000 + tid)
  statuses = {}
  run = tostring(os.time())
end
request = function()
  counter = counter + 1
  local body = '{"items":[{"book_id":"' .. ids[math.random(#ids)] .. '","quantity":1}],'
    .. '"payment":{"token":"tok_visa"},"shipping_address":{"name":"Bench Reader",'
    .. '"line1":"1 Main St","city":"Springfield","postal_code":"12345","country":"US"}}'
  return wrk.format("POST", "/v1/orders", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer $TOKEN",
    ["Idempotency-Key"] = "bench-" .. run .. "-" .. tid .. "-" .. counter,
  }, body)
end
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do parts[#parts + 1] = k .. ":" .. v end
  io.write("statuses " .. table.concat(parts, " ") .. "\n")
end
LUA

run_wrk warm "http://127.0.0.1:$NODE_PORT" "$WORK/order.lua" "$CONNS" 5
cpu_snapshot "$WORK/cpu0"
run_wrk orders "http://127.0.0.1:$NODE_PORT" "$WORK/order.lua" "$CONNS" "$SECONDS_RUN"
cpu_snapshot "$WORK/cpu1"
STATUSES=$(grep '^statuses' "$WORK/orders.wrk" | cut -d' ' -f2-)
CONFIRMED=$(echo "$STATUSES" | tr ' ' '\n' | awk -F: '$1 == 201 { print $2 }')

# The baseline, on the same PostgreSQL: its own database, one transaction per order.
psql "$PG_SERVER/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname='bookstore_pgbench'" \
  | grep -q 1 || psql "$PG_SERVER/postgres" -qc "CREATE DATABASE bookstore_pgbench"
psql "$PG_SERVER/bookstore_pgbench" -q -f "$ROOT/tests/bench/order_pgbench_schema.sql" >/dev/null
PG_PORT_ONLY=${PG_SERVER##*:}
pgbench_tps() { # CLIENTS
  psql "$PG_SERVER/bookstore_pgbench" -qc "CHECKPOINT" >/dev/null
  pgbench -h 127.0.0.1 -p "$PG_PORT_ONLY" -U bookstore -n -c "$1" -j 2 -T "$SECONDS_RUN" \
    -f "$ROOT/tests/bench/order_pgbench.sql" bookstore_pgbench 2>/dev/null \
    | awk '/^tps/ { printf "%.0f", $3 } /latency average/ { lat = $4 } END { printf " %s\n", lat }'
}
read -r PG8 PG8_LAT <<<"$(pgbench_tps 8)"
read -r PG32 PG32_LAT <<<"$(pgbench_tps 32)"

python3 - "$CONFIRMED" "$SECONDS_RUN" "$(wrk_field orders p50)" "$(wrk_field orders p99)" \
  "$STATUSES" "$PG8" "$PG8_LAT" "$PG32" "$PG32_LAT" "$CONNS" "$SYNC" <<'PY'
import sys
confirmed, secs, p50, p99, statuses, pg8, pg8l, pg32, pg32l, conns, sync = sys.argv[1:]
rate = int(confirmed or 0) / float(secs)
print(f"{'checkout (c=' + conns + ', 10000 books)':40} {'orders/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
print(f"{'POST /v1/orders, confirmed (201)':40} {rate:10.0f} {float(p50):8.1f} {float(p99):8.1f}")
print(f"answers: {statuses}   (201 confirmed; anything else is not a confirmed order)")
print(f"{'pgbench naive order, 1 tx/order, c=8':40} {float(pg8):10.0f} {float(pg8l):8.1f}   (avg ms)")
print(f"{'pgbench naive order, 1 tx/order, c=32':40} {float(pg32):10.0f} {float(pg32l):8.1f}   (avg ms)")
best = max(float(pg8), float(pg32))
print(f"orders/s vs best baseline: {rate / best:.2f}x   synchronous_commit: {sync}")
print("target: 2000 confirmed orders/s, p99 < 100 ms, more than the baseline")
PY
cpu_per_request "$WORK/cpu0" "$WORK/cpu1" "$CONFIRMED" | sed 's/per request/per confirmed order/'
