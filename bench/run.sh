#!/usr/bin/env bash
# Runs the load generator against a fresh server on this machine, then stops it.
#   bench/run.sh [bench options]        e.g. bench/run.sh --statements 100000 --batch 100 --concurrency 4
# Steps: build lvault and the bench in Release, init a fresh data folder, create a client with
# `lvault clients add --json`, start `lvault serve`, run the bench (which prints the server's resident
# memory), stop the server. Environment:
#   LV_BENCH_PORT   port to listen on (default 18181)
#   LV_BENCH_DIR    parent folder of the throwaway data folder (default ./.tmp, on the same disk as the repository;
#                   a tmpfs such as /tmp would leave out the cost of durable writes)
#   LV_BENCH_KEEP=1 keep the data folder and the server log afterwards
#   LV_BENCH_STORE  sqlite (default) or postgres: a throwaway PostgreSQL 15 cluster in the work folder
#                   (tests/tools/pg-cluster.sh, default settings, fsync on), migrated with 'lvault migrate'
#   LV_STORE        or a PostgreSQL of your own ("postgres:<connection string>" of an empty database)
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${LV_BENCH_PORT:-18181}"
URL="http://127.0.0.1:$PORT"
PARENT="${LV_BENCH_DIR:-$PWD/.tmp}"
mkdir -p "$PARENT"
WORK="$(mktemp -d "$PARENT/bench-XXXXXX")"
DATA="$WORK/data"
LOG="$WORK/serve.log"
SERVER_PID=""

PG_CLUSTER=""
cleanup() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ -n "$PG_CLUSTER" ]]; then
    du -sh "$PG_CLUSTER/data/base" 2>/dev/null | sed 's/^/postgres data: /' || true
    tests/tools/pg-cluster.sh stop "$PG_CLUSTER" || true
  fi
  if [[ "${LV_BENCH_KEEP:-0}" == "1" ]]; then
    echo "kept $WORK (data folder and serve.log)"
  else
    rm -rf "$WORK"
  fi
}
trap cleanup EXIT

echo "== build (Release)"
dotnet build src/LearnerVault.Cli/LearnerVault.Cli.csproj -c Release --nologo -v quiet
dotnet build bench/LearnerVault.Bench/LearnerVault.Bench.csproj -c Release --nologo -v quiet
LVAULT=(dotnet src/LearnerVault.Cli/bin/Release/net10.0/lvault.dll)
BENCH=(dotnet bench/LearnerVault.Bench/bin/Release/net10.0/LearnerVault.Bench.dll)

# The bench needs its own master key file; one from the environment would be used instead.
unset LV_MASTER_KEY LV_MASTER_KEY_FILE

if [[ "${LV_BENCH_STORE:-sqlite}" == postgres ]]; then
  PG_CLUSTER="$WORK/pg"
  echo "== PostgreSQL: throwaway cluster in $PG_CLUSTER"
  LV_STORE="postgres:$(tests/tools/pg-cluster.sh start "$PG_CLUSTER")"
  export LV_STORE
fi
if [[ "${LV_STORE:-}" == postgres:* ]]; then
  echo "== migrate"
  "${LVAULT[@]}" migrate --data "$DATA" >/dev/null
fi

echo "== init $DATA"
"${LVAULT[@]}" init --data "$DATA" >/dev/null
CLIENT_JSON="$("${LVAULT[@]}" clients add --data "$DATA" --name bench --scopes all --json)"
KEY="$(sed -n 's/.*"key":"\([^"]*\)".*/\1/p' <<<"$CLIENT_JSON")"
SECRET="$(sed -n 's/.*"secret":"\([^"]*\)".*/\1/p' <<<"$CLIENT_JSON")"
if [[ -z "$KEY" || -z "$SECRET" ]]; then
  echo "bench/run.sh: could not read key and secret from: lvault clients add --json" >&2
  exit 1
fi

echo "== serve $URL (log: $LOG)"
"${LVAULT[@]}" serve --data "$DATA" --urls "$URL" >"$LOG" 2>&1 &
SERVER_PID=$!

echo "== bench"
set +e
"${BENCH[@]}" --endpoint "$URL/xapi" --key "$KEY" --secret "$SECRET" --server-pid "$SERVER_PID" "$@"
status=$?
set -e
if ((status != 0)); then
  echo "bench/run.sh: the bench exited with $status; last lines of the server log:" >&2
  tail -n 20 "$LOG" >&2 || true
fi
du -sh "$DATA"/* 2>/dev/null | sed 's/^/data: /' || true
exit "$status"
