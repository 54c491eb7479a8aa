#!/usr/bin/env bash
# Authenticated reads and logins.
#  1. GET /v1/cart at 256 connections with 64 sessions' tokens (each cart holds 2 books): every
#     request verifies the JWT, checks revocation and rate limit, asks the session entity and
#     prices the cart from the catalog. Beside it, in the same run, the unauthenticated catalog
#     read (GET /v1/books/{id}, as catalog_read.sh). Alternating rounds, medians compared.
#     Target: cart rate >= 0.8 of the catalog read rate.
#  2. Logins per second at bcrypt cost 12 (POST /v1/auth/login, 4 connections).
#  3. Catalog reads at 256 connections while those logins run: their p99 against the rounds'.
#  4. The time of a failed login with a wrong password and with an unknown email (should match).
#   tests/bench/auth.sh [seconds=15] [connections=256] [extra node flags...]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECONDS_RUN=${1:-15}; CONNS=${2:-256}; shift $(( $# > 2 ? 2 : $# ))
BOOKS=100000
SESSIONS=64

bench_setup
bench_database bookstore_bench "$BOOKS"
psql "$BENCH_DSN" -Atqc "SELECT id FROM books ORDER BY id LIMIT $BOOKS" >"$WORK/ids.txt"
start_node --gateway.threads="${GATEWAY_THREADS:-2}" --auth.bcrypt-cost=12 "$@"
warm_catalog

# Users (registered once per database), one session each, two books in each cart.
python3 - "$NODE_PORT" "$SESSIONS" "$WORK/ids.txt" >"$WORK/tokens.txt" <<'PY'
import http.client, json, sys
port, n, ids = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3]).read().split()
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
def call(method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    r = conn.getresponse()
    return r.status, r.read()
for i in range(n):
    email = f"bench-reader-{i}@example.com"
    call("POST", "/v1/auth/register", {"email": email, "password": "bench-password", "name": "Bench"})
    status, body = call("POST", "/v1/auth/login", {"email": email, "password": "bench-password"})
    assert status == 200, body
    token = json.loads(body)["access_token"]
    for book in (ids[i * 7 % len(ids)], ids[i * 13 % len(ids)]):
        status, body = call("PUT", f"/v1/cart/items/{book}", {"quantity": 1 + i % 3}, token)
        assert status == 200, body
    print(token)
PY

cat >"$WORK/read.lua" <<LUA
local ids = {}
for line in io.lines("$WORK/ids.txt") do ids[#ids + 1] = line end
math.randomseed(os.time())
request = function()
  local r = math.floor(#ids * math.random() ^ 4) + 1
  return wrk.format("GET", "/v1/books/" .. ids[r])
end
LUA
cat >"$WORK/cart.lua" <<LUA
local tokens = {}
for line in io.lines("$WORK/tokens.txt") do tokens[#tokens + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/cart", {["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]})
end
LUA
cat >"$WORK/login.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"bench-reader-0@example.com","password":"bench-password"}'
LUA

run_wrk warm-read "http://127.0.0.1:$NODE_PORT" "$WORK/read.lua" "$CONNS" 5
run_wrk warm-cart "http://127.0.0.1:$NODE_PORT" "$WORK/cart.lua" "$CONNS" 5
ROUNDS=${ROUNDS:-3}
for r in $(seq "$ROUNDS"); do
  run_wrk "read$r" "http://127.0.0.1:$NODE_PORT" "$WORK/read.lua" "$CONNS" "$SECONDS_RUN"
  run_wrk "cart$r" "http://127.0.0.1:$NODE_PORT" "$WORK/cart.lua" "$CONNS" "$SECONDS_RUN"
done

# Logins alone, then logins beside catalog reads.
LOGIN_CONNS=${LOGIN_CONNS:-4}
wrk -t1 -c"$LOGIN_CONNS" -d"$SECONDS_RUN"s --timeout 10s --latency -s "$WORK/login.lua" \
  "http://127.0.0.1:$NODE_PORT/v1/auth/login" >"$WORK/login.wrk" 2>&1
wrk -t1 -c"$LOGIN_CONNS" -d"$((SECONDS_RUN + 4))"s --timeout 10s --latency -s "$WORK/login.lua" \
  "http://127.0.0.1:$NODE_PORT/v1/auth/login" >"$WORK/login-busy.wrk" 2>&1 &
LOGIN_PID=$!
sleep 2 # let the logins reach their pace before measuring reads beside them
run_wrk read-busy "http://127.0.0.1:$NODE_PORT" "$WORK/read.lua" "$CONNS" "$SECONDS_RUN"
wait "$LOGIN_PID"

# Failed logins, one at a time: a wrong password and an unknown email, alternating.
python3 - "$NODE_PORT" >"$WORK/timing.txt" <<'PY'
import http.client, json, statistics, sys, time
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=60)
def attempt(email):
    body = json.dumps({"email": email, "password": "not-the-password"})
    started = time.perf_counter()
    conn.request("POST", "/v1/auth/login", body=body, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    r.read()
    assert r.status == 401, r.status
    return (time.perf_counter() - started) * 1000
known, unknown = [], []
for i in range(15):
    known.append(attempt("bench-reader-1@example.com"))
    unknown.append(attempt(f"nobody-{i}@example.com"))
print(f"failed login, cost 12, one at a time: wrong password median {statistics.median(known):.0f} ms, "
      f"unknown email median {statistics.median(unknown):.0f} ms (15 each)")
PY

compare_rounds "catalog read vs cart (c=$CONNS)" read cart ">= 0.80"
printf '%-34s %12s %9s %9s  %s\n' "logins, cost 12, c=$LOGIN_CONNS" "$(wrk_field login rps)" \
  "$(wrk_field login p50)" "$(wrk_field login p99)" "$(wrk_field login errors)"
printf '%-34s %12s %9s %9s  %s\n' "logins beside catalog reads" "$(wrk_field login-busy rps)" \
  "$(wrk_field login-busy p50)" "$(wrk_field login-busy p99)" "$(wrk_field login-busy errors)"
printf '%-34s %12s %9s %9s  %s\n' "catalog read while logins run" "$(wrk_field read-busy rps)" \
  "$(wrk_field read-busy p50)" "$(wrk_field read-busy p99)" "$(wrk_field read-busy errors)"
cat "$WORK/timing.txt"
