#!/usr/bin/env bash
# Entity density: activate 1,000,000 inventory_item entities in one node's actor system, each
# from its own snapshot; print resident memory per entity and cold activation latency.
# Target: < 1 KiB per entity, cold activation p99 < 5 ms.
#   tests/bench/entity_density.sh [entities=1000000]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ENTITIES=${1:-1000000}

bench_setup
if ! psql "$PG_SERVER/postgres" -Atqc "SELECT 1 FROM pg_database WHERE datname='bookstore_density'" | grep -q 1; then
  psql "$PG_SERVER/postgres" -qc "CREATE DATABASE bookstore_density"
fi
"$BIN/bench-entity-density" --dsn="$PG_SERVER/bookstore_density" --entities="$ENTITIES" \
  --sample=10000 --concurrency=256
