#!/usr/bin/env bash
# Catalog reads: GET /v1/books/{id} over 100,000 books with skewed popularity, wrk with 256
# connections, against the node and, in the same run, against nginx answering a fixed 200 (same
# wrk script, so the client does the same work). Target: >= 0.5 of nginx's rate, p99 < 10 ms.
# This VM's figures swing ±15% between runs, so nginx and the node alternate for ROUNDS rounds
# (default 3) and the medians are compared.
#   tests/bench/catalog_read.sh [seconds=20] [connections=256] [extra node flags...]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECONDS_RUN=${1:-20}; CONNS=${2:-256}; shift $(( $# > 2 ? 2 : $# ))
BOOKS=100000

bench_setup
bench_database bookstore_bench "$BOOKS"
psql "$BENCH_DSN" -Atqc "SELECT id FROM books ORDER BY id LIMIT $BOOKS" >"$WORK/ids.txt"

# Popularity: the book of rank r (1 = most popular) is drawn with p(r) ~ r^-0.75 (rank = N*u^4).
cat >"$WORK/read.lua" <<LUA
local ids = {}
for line in io.lines("$WORK/ids.txt") do ids[#ids + 1] = line end
math.randomseed(os.time())
request = function()
  local r = math.floor(#ids * math.random() ^ 4) + 1
  return wrk.format("GET", "/v1/books/" .. ids[r])
end
LUA

start_nginx
start_node --gateway.threads="${GATEWAY_THREADS:-2}" "$@"
warm_catalog
run_wrk warm "http://127.0.0.1:$NODE_PORT" "$WORK/read.lua" "$CONNS" 5
ROUNDS=${ROUNDS:-3}
for r in $(seq "$ROUNDS"); do
  run_wrk "nginx$r" "http://127.0.0.1:$NGINX_PORT" "$WORK/read.lua" "$CONNS" "$SECONDS_RUN"
  run_wrk "node$r" "http://127.0.0.1:$NODE_PORT" "$WORK/read.lua" "$CONNS" "$SECONDS_RUN"
done

compare_rounds "catalog read (c=$CONNS)" nginx node ">= 0.50, p99 < 10 ms"
echo "entities active after the run: $(metric bookstore_entities_active)"
