#!/usr/bin/env bash
# The developer's two commands:
#   deploy/dev.sh run    install what is missing, build, start a private PostgreSQL and Redis under
#                        ./var, migrate, seed the demo catalog once, run one node; Ctrl-C stops it all
#   deploy/dev.sh test   the same set-up, then every test through CTest
# Helpers: `deploy/dev.sh services` (start PostgreSQL and Redis only), `deploy/dev.sh stop`.
# Environment: BOOKSTORE_BOOKS (demo catalog size, default 10000), BOOKSTORE_PORT (gateway port,
# default the first free one from 8080), BUILD_DIR (default ./build).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VAR="$ROOT/var"
BUILD="${BUILD_DIR:-$ROOT/build}"
PACKAGES=(cmake ninja-build ccache g++ pkg-config libcaf-dev libboost-dev libpqxx-dev
  libhiredis-dev libmsgpack-cxx-dev libspdlog-dev libssl-dev nlohmann-json3-dev postgresql
  redis-server python3 curl libjemalloc-dev libjwt-dev liboath-dev libcrypt-dev libcurl4-openssl-dev)

say() { printf 'dev.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root (or sudo) to run: $*"; fi
}

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

build() {
  if [ ! -f "$BUILD/build.ninja" ]; then
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  cmake --build "$BUILD" >&2
}

free_port() { # first free loopback port at or above $1
  python3 - "$1" <<'EOF'
import socket, sys
port = int(sys.argv[1])
while True:
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port)); s.close(); print(port); break
    except OSError:
        port += 1
EOF
}

# -- PostgreSQL ------------------------------------------------------------------------------
PG_BIN=""        # found after install_missing (PostgreSQL may not be installed yet)
PG_USER=""        # the unprivileged account PostgreSQL runs as when we are root
PG_DATA="$VAR/pg" # the cluster; a symlink when PostgreSQL's account cannot reach ./var
PG_LOG="$VAR/log/postgres.log"
PG_STARTED=0

pg() { # run a PostgreSQL program as its account (from /, which it can always enter)
  if [ -n "$PG_USER" ]; then (cd / && runuser -u "$PG_USER" -- "$@"); else "$@"; fi
}

pg_prepare_dir() {
  mkdir -p "$VAR/log"
  if [ "$(id -u)" -eq 0 ]; then
    PG_USER=postgres
    id "$PG_USER" >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER"
    # PostgreSQL refuses to run as root; its account must reach the data directory.
    if ! (cd / && runuser -u "$PG_USER" -- test -x "$VAR"); then
      local alt="/var/tmp/bookstore-pg-$(printf '%s' "$ROOT" | md5sum | cut -c1-12)"
      [ -L "$PG_DATA" ] || say "PostgreSQL's account cannot reach $VAR; its data lives in $alt"
      mkdir -p "$alt/data"
      if [ ! -L "$PG_DATA" ]; then
        [ -f "$PG_DATA/PG_VERSION" ] && die "$PG_DATA holds a cluster PostgreSQL's account cannot reach; move ./var or make its parents traversable"
        rm -rf "$PG_DATA"
        ln -s "$alt/data" "$PG_DATA"
      fi
      PG_LOG="$alt/postgres.log"
      chown "$PG_USER" "$alt"
    fi
    PG_DATA=$(readlink -f "$PG_DATA")
    mkdir -p "$PG_DATA"
    chown -R "$PG_USER" "$PG_DATA"
    touch "$PG_LOG"; chown "$PG_USER" "$PG_LOG"
  else
    mkdir -p "$PG_DATA"
  fi
  chmod 700 "$PG_DATA"
}

find_pg_bin() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$PG_BIN" ] || die "PostgreSQL binaries not found under /usr/lib/postgresql"
}

pg_start() {
  find_pg_bin
  pg_prepare_dir
  [ -f "$VAR/pg.port" ] || free_port 15432 >"$VAR/pg.port"
  PG_PORT=$(cat "$VAR/pg.port")
  if [ ! -f "$PG_DATA/PG_VERSION" ]; then
    say "creating PostgreSQL cluster in $PG_DATA"
    pg "$PG_BIN/initdb" -D "$PG_DATA" -U bookstore --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$PG_DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''
max_connections = 200
EOF
  fi
  if pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    say "PostgreSQL already running on 127.0.0.1:$PG_PORT"
  else
    # Checkpoints far apart, and full-page images compressed: at default settings a stream of
    # orders forced a checkpoint every ~20 s and half of all WAL was full-page images. Shared
    # buffers a quarter of the memory, at most 2 GB: at the default 128 MB, once the snapshots
    # outgrew it (~300k entities) every write evicted a page and orders/s fell by half. Given at
    # each start, so clusters made before these settings get them too.
    local mem_mb buffers_mb
    mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
    buffers_mb=$(( mem_mb / 4 > 2048 ? 2048 : (mem_mb / 4 < 128 ? 128 : mem_mb / 4) ))
    pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
      -o "-c max_wal_size=4GB -c checkpoint_timeout=15min -c wal_compression=lz4 -c shared_buffers=${buffers_mb}MB" \
      start >/dev/null \
      || die "PostgreSQL did not start; see $PG_LOG"
    PG_STARTED=1
  fi
  if ! pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U bookstore -d postgres -Atqc \
      "SELECT 1 FROM pg_database WHERE datname = 'bookstore'" | grep -q 1; then
    pg "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U bookstore bookstore
  fi
  PG_DSN="postgresql://bookstore@127.0.0.1:$PG_PORT/bookstore"
}

pg_stop() {
  [ "$PG_STARTED" -eq 1 ] || return 0
  pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
  PG_STARTED=0
}

# -- Redis -----------------------------------------------------------------------------------
REDIS_STARTED=0

redis_start() {
  mkdir -p "$VAR/redis" "$VAR/log"
  [ -f "$VAR/redis.port" ] || free_port 16379 >"$VAR/redis.port"
  REDIS_PORT=$(cat "$VAR/redis.port")
  local started=0
  if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    say "Redis already running on 127.0.0.1:$REDIS_PORT"
  else
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$VAR/redis" --appendonly yes \
      --daemonize yes --pidfile "$VAR/redis/redis.pid" --logfile "$VAR/log/redis.log" \
      --protected-mode yes >/dev/null
    started=1
  fi
  # Ready only once PING answers PONG: while Redis loads its append-only file it answers LOADING
  # (and fails every command), which redis-cli does not count as an error.
  for _ in $(seq 300); do
    if [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; then
      if [ "$started" = 1 ]; then REDIS_STARTED=1; fi
      return 0
    fi
    sleep 0.1
  done
  die "Redis did not become ready; see $VAR/log/redis.log"
}

redis_stop() {
  [ "$REDIS_STARTED" -eq 1 ] || return 0
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  REDIS_STARTED=0
}

stop_services() { pg_stop; redis_stop; }

services() {
  install_missing
  pg_start
  redis_start
}

# A random secret kept under ./var (hex of $2 bytes), so tokens and MFA enrolments of the local
# node survive its restarts. Never printed.
local_secret() {
  [ -s "$VAR/$1" ] && return
  (umask 077 && head -c "$2" /dev/urandom | od -An -tx1 | tr -d ' \n' >"$VAR/$1")
}

# -- commands --------------------------------------------------------------------------------
cmd_run() {
  services
  trap 'stop_services' EXIT
  build
  "$BUILD/bin/bookstore-seed" --dsn="$PG_DSN" --books="${BOOKSTORE_BOOKS:-10000}" --if-empty >&2
  local port="${BOOKSTORE_PORT:-$(free_port 8080)}"
  local_secret jwt.secret 48
  local_secret mfa.key 32
  "$BUILD/bin/bookstore-node" --config-file="$ROOT/config/local.ini" \
    --gateway.port="$port" --postgres.dsn="$PG_DSN" --redis.port="$REDIS_PORT" \
    --auth.jwt-secret="$(cat "$VAR/jwt.secret")" --auth.mfa-key="$(cat "$VAR/mfa.key")" \
    --avatars.dir="$VAR/avatars" &
  NODE_PID=$!
  trap 'kill -TERM "$NODE_PID" 2>/dev/null; wait "$NODE_PID" 2>/dev/null; stop_services' EXIT
  trap 'exit 130' INT TERM
  for _ in $(seq 300); do
    kill -0 "$NODE_PID" 2>/dev/null || die "the node stopped during start-up"
    curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  say "gateway ready on http://127.0.0.1:$port (Ctrl-C stops the node, PostgreSQL and Redis)"
  echo "http://127.0.0.1:$port"
  wait "$NODE_PID"
}

cmd_test() {
  services
  trap 'stop_services' EXIT
  build
  export BOOKSTORE_TEST_PG="postgresql://bookstore@127.0.0.1:$PG_PORT"
  export BOOKSTORE_TEST_REDIS="127.0.0.1:$REDIS_PORT"
  export BOOKSTORE_BIN="$BUILD/bin"
  (cd "$BUILD" && ctest --output-on-failure --timeout 600 "$@")
}

cmd_services() {
  services
  say "PostgreSQL: $PG_DSN"
  say "Redis: 127.0.0.1:$REDIS_PORT"
}

cmd_stop() {
  if [ -f "$PG_DATA/PG_VERSION" ]; then
    find_pg_bin
    pg_prepare_dir
    pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast stop || true
  fi
  [ -f "$VAR/redis.port" ] && redis-cli -h 127.0.0.1 -p "$(cat "$VAR/redis.port")" shutdown nosave 2>/dev/null || true
}

case "${1:-}" in
  run) shift; cmd_run "$@" ;;
  test) shift; cmd_test "$@" ;;
  services) shift; cmd_services "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) echo "usage: deploy/dev.sh run | test [ctest args] | services | stop" >&2; exit 2 ;;
esac
