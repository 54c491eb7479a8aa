# Shared by the benchmark scripts: services, a seeded bench database, a node, nginx, wrk parsing.
# Not a test: figures depend on the machine and on what else runs on it.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN="${BUILD_DIR:-$ROOT/build}/bin"
WORK=$(mktemp -d /tmp/bookstore-bench.XXXXXX)
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -f "$WORK/nginx/nginx.pid" ] && kill -QUIT "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

bench_setup() { # starts PostgreSQL and Redis (deploy/dev.sh services) and builds
  command -v wrk >/dev/null && command -v pgbench >/dev/null \
    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk postgresql-contrib >/dev/null
  "$ROOT/deploy/dev.sh" services >/dev/null 2>&1
  cmake --build "${BUILD_DIR:-$ROOT/build}" >/dev/null
  PG_PORT=$(cat "$ROOT/var/pg.port")
  REDIS_PORT=$(cat "$ROOT/var/redis.port")
  PG_SERVER="postgresql://bookstore@127.0.0.1:$PG_PORT"
}

bench_database() { # NAME BOOKS: a database with the first BOOKS demo books (seeded once)
  local name=$1 books=$2
  if ! psql "$PG_SERVER/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname='$name'" | grep -q 1; then
    psql "$PG_SERVER/postgres" -qc "CREATE DATABASE $name"
  fi
  BENCH_DSN="$PG_SERVER/$name"
  local have
  have=$(psql "$BENCH_DSN" -Atqc "SELECT count(*) FROM books" 2>/dev/null || echo 0)
  if [ "$have" -lt "$books" ]; then
    "$BIN/bookstore-seed" --dsn="$BENCH_DSN" --books="$books" >/dev/null
  fi
}

ADMIN_EMAIL=admin@bookstore.local
ADMIN_PASSWORD=bookstore-admin

# The node runs in local mode (secrets made up for the run) with the bootstrap admin, and with a
# rate limit no benchmark reaches: the limiter still counts every request, as in production.
start_node() { # extra flags...; sets NODE_PORT
  rm -f "$WORK/port"
  ${NODE_PRELOAD:+env LD_PRELOAD=$NODE_PRELOAD} "$BIN/bookstore-node" --node.id=bench --gateway.port=0 --gateway.port-file="$WORK/port" \
    --postgres.dsn="$BENCH_DSN" --redis.port="$REDIS_PORT" --log.level=warn --node.mode=local \
    --auth.bootstrap-admin-email="$ADMIN_EMAIL" --auth.bootstrap-admin-password="$ADMIN_PASSWORD" \
    --rate-limit.requests=1000000000 --redis.prefix=bench --avatars.dir="$WORK/avatars" "$@" \
    >"$WORK/node.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 600); do
    [ -s "$WORK/port" ] && curl -fs "http://127.0.0.1:$(cat "$WORK/port")/healthz" >/dev/null && break
    sleep 0.1
  done
  NODE_PORT=$(cat "$WORK/port")
}

start_nginx() { # a private nginx answering a fixed 200 on every path; sets NGINX_PORT
  NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
  cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
worker_rlimit_nofile 20000;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
daemon on;
events { worker_connections 16384; multi_accept on; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $WORK/nginx/tmp;
  proxy_temp_path $WORK/nginx/tmp;
  fastcgi_temp_path $WORK/nginx/tmp;
  uwsgi_temp_path $WORK/nginx/tmp;
  scgi_temp_path $WORK/nginx/tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT backlog=4096 reuseport;
    location / { default_type application/json; return 200 '{"ok":true}'; }
  }
}
CONF
  nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx/" 2>/dev/null
}

# run_wrk NAME URL SCRIPT CONNECTIONS SECONDS: runs wrk, stores its output in $WORK/NAME.wrk
run_wrk() {
  ulimit -n 20000 2>/dev/null || true
  wrk -t2 -c"$4" -d"$5"s --latency -s "$3" "$2" >"$WORK/$1.wrk" 2>&1
}

# cpu_snapshot FILE: CPU time so far (user+system clock ticks) of each thread of the node and of
# the PostgreSQL server's processes, to be compared by cpu_per_request. Orders/s on this VM moves
# with its phase; CPU per request and where it goes say more about a change.
cpu_snapshot() {
  local pm t
  pm=$(head -1 "$ROOT/var/pg/postmaster.pid")
  {
    for t in /proc/"${PIDS[0]}"/task/*; do
      echo "node $(cat "$t/comm") $(awk '{print $14 + $15}' "$t/stat")"
    done
    for t in "$pm" $(pgrep -P "$pm"); do
      echo "postgres $t $(awk '{print $14 + $15}' "/proc/$t/stat" 2>/dev/null || echo 0)"
    done
  } >"$1"
}

# cpu_per_request BEFORE AFTER REQUESTS: µs of CPU per request of the node (by thread name) and
# of PostgreSQL between two cpu_snapshot files (a backend that ended in between is not counted).
cpu_per_request() {
  python3 - "$1" "$2" "$3" "$(getconf CLK_TCK)" <<'PY'
import collections, sys
before, after, requests, hz = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def read(path):
    out = collections.Counter()
    for line in open(path):
        who, rest = line.rstrip("\n").split(" ", 1)
        name, ticks = rest.rsplit(" ", 1) # a thread's name may hold spaces
        out[(who, name)] += int(ticks)
    return out
a, b = read(before), read(after)
def us(ticks):
    return ticks * 1e6 / hz / max(requests, 1)
node, pg = collections.Counter(), 0
for (who, name), ticks in b.items():
    delta = ticks - a.get((who, name), 0)
    if who == "node":
        node[name] += delta
    else:
        pg += max(delta, 0)
threads = ", ".join(f"{n} {us(t):.0f}" for n, t in node.most_common() if us(t) >= 1)
print(f"CPU per request: node {us(sum(node.values())):.0f} us ({threads}), "
      f"PostgreSQL {us(pg):.0f} us")
PY
}

# wrk_field NAME rps|p50|p99|errors: one figure of a wrk run (latencies in ms)
wrk_field() {
  python3 - "$WORK/$1.wrk" "$2" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
field = sys.argv[2]
if field == "rps":
    print(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
elif field in ("p50", "p99"):
    pattern = r"^\s+" + field[1:] + r"%\s+(\S+)"
    print("%.2f" % ms(re.search(pattern, text, re.M).group(1)))
elif field == "errors":
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sock = re.search(r"Socket errors: (.*)", text)
    print((f"non-2xx {non2xx.group(1)} " if non2xx else "") + (sock.group(1) if sock else "none"))
PY
}

# compare_rounds TITLE BASE SUBJECT TARGET: the table of ROUNDS alternating wrk runs named
# BASE1.., SUBJECT1.., then both medians and the ratio SUBJECT/BASE of medians (and per round).
compare_rounds() {
  local title=$1 base=$2 subject=$3 target=$4 r t
  printf '%-34s %12s %9s %9s  %s\n' "$title" "requests/s" "p50 ms" "p99 ms" "errors"
  for r in $(seq "$ROUNDS"); do
    for t in "$base" "$subject"; do
      printf '%-34s %12s %9s %9s  %s\n' "round $r: $t" "$(wrk_field "$t$r" rps)" \
        "$(wrk_field "$t$r" p50)" "$(wrk_field "$t$r" p99)" "$(wrk_field "$t$r" errors)"
    done
  done
  local series=""
  for t in "$base" "$subject"; do
    for f in rps p99; do
      series+="$(for r in $(seq "$ROUNDS"); do printf '%s,' "$(wrk_field "$t$r" "$f")"; done);"
    done
  done
  python3 - "$base" "$subject" "$target" "$series" <<'PY'
import statistics, sys
base, subject, target, series = sys.argv[1:]
b, b99, s, s99 = ([float(x) for x in part.split(",") if x] for part in series.split(";")[:4])
mb, ms = statistics.median(b), statistics.median(s)
print(f"median: {base} {mb:.0f} req/s (p99 {statistics.median(b99):.1f} ms), "
      f"{subject} {ms:.0f} req/s (p99 {statistics.median(s99):.1f} ms)")
ratios = [x / y for x, y in zip(s, b)]
print(f"ratio {subject}/{base} (medians): {ms / mb:.2f}  "
      f"(per round {min(ratios):.2f}..{max(ratios):.2f}; target {target})")
PY
}

warm_catalog() { # walks every page of the catalog once: books cached, inventory items active
  python3 - "$NODE_PORT" <<'PY'
import http.client, json, sys, time
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=60)
cursor, books, started = None, 0, time.monotonic()
while True:
    conn.request("GET", "/v1/books?limit=100" + (f"&cursor={cursor}" if cursor else ""))
    page = json.loads(conn.getresponse().read())
    books += len(page["items"])
    cursor = page["next_cursor"]
    if not cursor:
        break
print(f"warmed {books} books in {time.monotonic() - started:.1f} s", file=sys.stderr)
PY
}

login_token() { # EMAIL PASSWORD: prints an access token of a new session
  curl -fs -X POST "http://127.0.0.1:$NODE_PORT/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$2\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

metric() { # NAME: the sum of a metric's samples on the node's /metrics
  curl -s "http://127.0.0.1:$NODE_PORT/metrics" | awk -v n="$1" '$1 == n || index($1, n"{") == 1 { s += $2 } END { printf "%.6f\n", s }'
}
