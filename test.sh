#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script):
#   1. build the solution in Release (warnings are errors, see Directory.Build.props);
#   2. check formatting with `dotnet format --verify-no-changes` (SKIP_FORMAT=1 skips it);
#   3. start a throwaway PostgreSQL 15 cluster (tests/tools/pg-cluster.sh) on a loopback port;
#   4. run every test project on SQLite, and the storage, HTTP and CLI suites again on PostgreSQL, each run
#      writing a TRX report, and count the reports per backend;
#   5. end-to-end: start `lvault serve` on a throwaway data folder and run the JavaScript xAPI client
#      tests in tests/e2e-js (npm ci, node --test), adding their counts to the TRX ones;
#   6. print one last line: "tests: N passed, M failed".
# Exits non-zero when anything fails, or when no test ran at all.
set -euo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Tests create their own master keys; one inherited from the shell would change what they test.
unset LV_MASTER_KEY LV_MASTER_KEY_FILE LV_DATA LV_URLS LV_STORE LV_KEY_STORE LV_TEST_BACKEND

SOLUTION=LearnerVault.slnx
RESULTS="${TEST_RESULTS:-$PWD/TestResults}"
# A hung test must not hold CI for ever: the suite is meant to finish well under 20 minutes on 2 cores.
TEST_TIMEOUT="${TEST_TIMEOUT:-17m}"

summary() {
  echo "tests: $1 passed, $2 failed"
}

rm -rf "$RESULTS"
mkdir -p "$RESULTS"

echo "== build ($SOLUTION, Release)"
if ! dotnet build "$SOLUTION" -c Release --nologo; then
  echo "test.sh: the build failed" >&2
  summary 0 0
  exit 1
fi

if [[ "${SKIP_FORMAT:-0}" == "1" ]]; then
  echo "== format check skipped (SKIP_FORMAT=1)"
else
  echo "== format check"
  if ! dotnet format "$SOLUTION" --verify-no-changes --no-restore; then
    echo "test.sh: 'dotnet format $SOLUTION' would change files; run it and commit the result" >&2
    summary 0 0
    exit 1
  fi
fi

# --- PostgreSQL: a throwaway cluster for the PostgreSQL runs ------------------------------------
# tests/tools/pg-cluster.sh initdb's a cluster into a temp folder (as the postgres user when run as root) and starts it
# on a free loopback port; the EXIT trap stops it and removes the folder. Without the server binaries the PostgreSQL
# runs are not skipped: they count as failed, with the reason.
pg_dir=""
pg_cleanup() {
  if [[ -n "$pg_dir" ]]; then
    tests/tools/pg-cluster.sh stop "$pg_dir/cluster" || true
    rm -rf "$pg_dir"
    pg_dir=""
  fi
}
trap pg_cleanup EXIT
pg_failure=""
echo "== PostgreSQL: throwaway cluster"
if [[ ! -x /usr/lib/postgresql/15/bin/initdb && -z "${LV_PG_BIN:-}" ]] && ! command -v initdb >/dev/null 2>&1 \
  && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "PostgreSQL server binaries missing: installing postgresql-15 with apt-get"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15) >/dev/null 2>&1 || true
fi
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/lvault-pg.XXXXXX")
if LV_TEST_POSTGRES=$(tests/tools/pg-cluster.sh start "$pg_dir/cluster"); then
  export LV_TEST_POSTGRES
  echo "PostgreSQL on 127.0.0.1, $(sed -n 's/.*Port=\([0-9]*\).*/port \1/p' <<<"$LV_TEST_POSTGRES")"
else
  pg_failure="could not start a throwaway PostgreSQL cluster (see the message above)"
  echo "test.sh: $pg_failure" >&2
  unset LV_TEST_POSTGRES
fi

echo "== tests (TRX reports in $RESULTS)"
# Every test project runs on the embedded default (SQLite); the storage, HTTP and CLI suites run a second time on
# PostgreSQL: in the storage and CLI projects the PostgreSQL classes carry the trait Backend=postgres; the HTTP suite
# runs whole on the backend LV_TEST_BACKEND names. One `dotnet test` per (project, backend), side by side, each naming
# its own TRX report (with one `dotnet test --solution`, two modules starting in the same clock tick wrote the same
# default report name and one report silently replaced the other).
mapfile -t test_projects < <(sed -n 's/.*<Project Path="\(tests\/[^"]*\.csproj\)".*/\1/p' "$SOLUTION")
postgres_projects=(tests/LearnerVault.Storage.Tests/LearnerVault.Storage.Tests.csproj
  tests/LearnerVault.Server.Tests/LearnerVault.Server.Tests.csproj
  tests/LearnerVault.Cli.Tests/LearnerVault.Cli.Tests.csproj)
declare -A test_pids=()
expected=0
start_run() { # backend project
  local backend=$1 project=$2 name
  local -a filter
  name="$(basename "$project" .csproj).$backend"
  if [[ $backend == postgres ]]; then filter=(--filter-trait "Backend=postgres"); else filter=(--filter-not-trait "Backend=postgres"); fi
  if [[ $backend == postgres && $project == *Server.Tests* ]]; then filter=(); fi
  # Exit code 8 means "this module ran zero tests"; a module without tests is not a failure, a
  # suite without tests is (checked below from the reports).
  LV_TEST_BACKEND=$backend timeout --signal=TERM --kill-after=60s "$TEST_TIMEOUT" \
    dotnet test --project "$project" -c Release --no-build "${filter[@]}" \
      --results-directory "$RESULTS/$backend" --report-xunit-trx --report-xunit-trx-filename "$name.trx" \
      --ignore-exit-code 8 --timeout "$TEST_TIMEOUT" >"$RESULTS/$name.log" 2>&1 &
  test_pids[$name]=$!
  expected=$((expected + 1))
}
mkdir -p "$RESULTS/sqlite" "$RESULTS/postgres"
set +e
test_exit=0
for project in "${test_projects[@]}"; do
  start_run sqlite "$project"
done
if [[ -z "$pg_failure" ]]; then
  for project in "${postgres_projects[@]}"; do
    start_run postgres "$project"
  done
fi
for name in "${!test_pids[@]}"; do
  wait "${test_pids[$name]}"
  code=$?
  echo "--- $name"
  cat "$RESULTS/$name.log"
  if ((code != 0)); then
    echo "test.sh: $name: dotnet test exited with $code" >&2
    test_exit=$code
  fi
done
set -e

# Count from the TRX files rather than the runner's own summary, so that a run that executed nothing
# is visible. Each report has one <Counters total=".." passed=".." failed=".." error=".." .../> element.
passed=0
failed=0
reports=0
attribute() {
  sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$2"
}
count_reports() { # folder: sets run_passed and run_failed, and adds them to the totals
  run_passed=0
  run_failed=0
  local trx counters outcome
  while IFS= read -r -d '' trx; do
    counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 || true)
    if [[ -z "$counters" ]]; then
      echo "test.sh: no counters in $trx" >&2
      run_failed=$((run_failed + 1))
      continue
    fi
    reports=$((reports + 1))
    run_passed=$((run_passed + $(attribute passed "$counters")))
    for outcome in failed error timeout aborted; do
      run_failed=$((run_failed + $(attribute "$outcome" "$counters")))
    done
  done < <(find "$1" -name '*.trx' -print0)
  passed=$((passed + run_passed))
  failed=$((failed + run_failed))
}
count_reports "$RESULTS/sqlite"
sqlite_line="SQLite (every test project): $run_passed passed, $run_failed failed"
count_reports "$RESULTS/postgres"
postgres_line="PostgreSQL (storage contract, HTTP and CLI suites): $run_passed passed, $run_failed failed"
if [[ -n "$pg_failure" ]]; then
  failed=$((failed + 1))
  postgres_line="PostgreSQL: NOT RUN, counted as 1 failure: $pg_failure"
fi

# --- end-to-end: JavaScript xAPI clients (tests/e2e-js) ---------------------------------------
# Drives a real `lvault serve` (the Release build above) on a free loopback port, in a throwaway data
# folder, through the npm clients @xapi/xapi and tincanjs with Node's own test runner. Its pass/fail
# counts are added to the .NET ones, so the last line counts them too.
echo "== end-to-end: JavaScript xAPI clients (tests/e2e-js)"
E2E_DIR="$PWD/tests/e2e-js"
E2E_CLI="$PWD/src/LearnerVault.Cli/bin/Release/net10.0/lvault.dll"
e2e_tmp=""
e2e_server_pid=""
e2e_cleanup() {
  if [[ -n "$e2e_server_pid" ]]; then
    kill -TERM "$e2e_server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$e2e_server_pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$e2e_server_pid" 2>/dev/null || true
    wait "$e2e_server_pid" 2>/dev/null || true
    e2e_server_pid=""
  fi
  if [[ -n "$e2e_tmp" ]]; then
    rm -rf "$e2e_tmp"
    e2e_tmp=""
  fi
}
trap 'e2e_cleanup; pg_cleanup' EXIT
e2e_fail() {
  echo "test.sh: end-to-end: $1" >&2
  failed=$((failed + 1))
}
e2e_prepare() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    e2e_fail "node and npm are needed for the JavaScript client tests (Node 20 or later) and were not found"
    return 1
  fi
  if ! (cd "$E2E_DIR" && npm ci --no-audit --no-fund); then
    e2e_fail "'npm ci' failed in $E2E_DIR"
    return 1
  fi
}
e2e_run() { # backend: sqlite, or postgres (the throwaway cluster's maintenance database, migrated here)
  local backend=$1 label
  e2e_tmp=$(mktemp -d "${TMPDIR:-/tmp}/lvault-e2e.XXXXXX")
  local data="$e2e_tmp/data"
  if [[ $backend == postgres ]]; then
    label="PostgreSQL"
    export LV_STORE="postgres:$LV_TEST_POSTGRES"
    if ! dotnet "$E2E_CLI" migrate --data "$data" >"$e2e_tmp/init.log" 2>&1; then
      cat "$e2e_tmp/init.log" >&2
      e2e_fail "'lvault migrate' failed"
      return
    fi
  else
    label="SQLite"
    unset LV_STORE
  fi
  if ! dotnet "$E2E_CLI" init --data "$data" >"$e2e_tmp/init.log" 2>&1; then
    cat "$e2e_tmp/init.log" >&2
    e2e_fail "'lvault init' failed"
    return
  fi
  local creds key secret port endpoint
  if ! creds=$(dotnet "$E2E_CLI" clients add --data "$data" --name e2e --scopes all --json); then
    e2e_fail "'lvault clients add' failed"
    return
  fi
  key=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).key)' "$creds")
  secret=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).secret)' "$creds")
  port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{process.stdout.write(String(s.address().port));s.close()})')
  endpoint="http://127.0.0.1:$port/xapi/"
  dotnet "$E2E_CLI" serve --data "$data" --urls "http://127.0.0.1:$port" >"$e2e_tmp/server.log" 2>&1 &
  e2e_server_pid=$!
  local ready=0
  for _ in $(seq 1 120); do
    if ! kill -0 "$e2e_server_pid" 2>/dev/null; then
      break
    fi
    if node -e 'fetch(process.argv[1]).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))' "${endpoint}about" 2>/dev/null; then
      ready=1
      break
    fi
    sleep 0.5
  done
  if ((ready == 0)); then
    cat "$e2e_tmp/server.log" >&2
    e2e_fail "the server did not answer ${endpoint}about within 60 s"
    return
  fi
  echo "server on $endpoint (pid $e2e_server_pid, $label)"
  local tap="$RESULTS/e2e-js.$backend.tap"
  (cd "$E2E_DIR" && LV_E2E_ENDPOINT="$endpoint" LV_E2E_KEY="$key" LV_E2E_SECRET="$secret" \
    timeout --signal=TERM --kill-after=30s 5m node --test --test-reporter=tap) | tee "$tap"
  local node_exit=${PIPESTATUS[0]}
  # Node's TAP summary ends with "# pass N", "# fail N", "# cancelled N", ...
  local js_pass js_fail js_cancelled
  js_pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
  js_fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
  js_cancelled=$(sed -n 's/^# cancelled \([0-9]*\)$/\1/p' "$tap" | tail -n 1)
  if [[ -z "$js_pass" || -z "$js_fail" ]]; then
    e2e_fail "no test summary from node --test (exit code $node_exit)"
  else
    passed=$((passed + js_pass))
    failed=$((failed + js_fail + ${js_cancelled:-0}))
    e2e_lines+=("end-to-end (JavaScript xAPI clients, $label): $js_pass passed, $((js_fail + ${js_cancelled:-0})) failed")
    echo "${e2e_lines[-1]}"
    if ((node_exit != 0 && js_fail + ${js_cancelled:-0} == 0)); then
      e2e_fail "node --test exited with $node_exit"
    fi
    if ((js_pass + js_fail == 0)); then
      e2e_fail "node --test ran no test"
    fi
  fi
  if [[ -z "$js_fail" || "$js_fail" != 0 || "${js_cancelled:-0}" != 0 || "$node_exit" != 0 ]]; then
    echo "--- server log (last 50 lines) ---" >&2
    tail -n 50 "$e2e_tmp/server.log" >&2
  fi
}
e2e_lines=()
set +e
if e2e_prepare; then
  e2e_run sqlite
  e2e_cleanup
  if [[ -z "$pg_failure" ]]; then
    e2e_run postgres
    e2e_cleanup
  fi
  unset LV_STORE
fi
set -e
pg_cleanup
# ------------------------------------------------------------------------------------------------

echo "$sqlite_line"
echo "$postgres_line"
if ((${#e2e_lines[@]} == 0)); then echo "end-to-end: not run"; else printf '%s\n' "${e2e_lines[@]}"; fi
# Every run must have reported; a missing report means a module crashed or hung.
status=0
if ((reports < expected)); then
  echo "test.sh: $reports test reports for $expected test runs" >&2
  status=1
fi
if ((test_exit != 0)); then
  echo "test.sh: dotnet test exited with $test_exit" >&2
  status=1
fi
if ((failed > 0)); then
  status=1
fi
if ((passed + failed == 0)); then
  echo "test.sh: no test ran" >&2
  status=1
fi

summary "$passed" "$failed"
exit "$status"
