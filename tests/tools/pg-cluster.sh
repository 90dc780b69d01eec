#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on a loopback port in a temp folder.
#   pg-cluster.sh start DIR   -> initdb into DIR, start on a free 127.0.0.1 port, print the connection string
#   pg-cluster.sh stop DIR    -> stop the server and remove DIR
# The server binaries are looked up in LV_PG_BIN, then /usr/lib/postgresql/15/bin, then PATH. initdb refuses to
# run as root, so as root the cluster is created and run as the 'postgres' user (runuser).
set -euo pipefail

find_bin() {
  local candidate
  for candidate in "${LV_PG_BIN:-}" /usr/lib/postgresql/15/bin; do
    if [[ -n "$candidate" && -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
      echo "$candidate"
      return 0
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  return 1
}

as_owner() {
  if [[ $(id -u) == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

case "$cmd" in
  start)
    if ! bin=$(find_bin); then
      echo "PostgreSQL server binaries not found (looked in \$LV_PG_BIN, /usr/lib/postgresql/15/bin and PATH): install them with 'apt-get install postgresql-15' or set LV_PG_BIN" >&2
      exit 3
    fi
    if [[ $(id -u) == 0 ]] && ! id postgres >/dev/null 2>&1; then
      echo "running as root needs a 'postgres' user to own the cluster (initdb refuses root)" >&2
      exit 3
    fi
    mkdir -p "$dir"
    chmod 700 "$dir"
    if [[ $(id -u) == 0 ]]; then
      chown postgres "$dir"
      # The postgres user must reach DIR: let it pass through the parent folder (a temp folder of the caller's).
      chmod o+x "$(dirname "$dir")"
    fi
    password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 20)
    (umask 077 && printf '%s\n' "$password" >"$dir/pw")
    if [[ $(id -u) == 0 ]]; then chown postgres "$dir/pw"; fi
    as_owner "$bin/initdb" -D "$dir/data" -U lvtest --pwfile="$dir/pw" -A scram-sha-256 -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      exit 1
    }
    rm -f "$dir/pw"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
      node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
    # Durability settings stay at their defaults (fsync on): the tests check crash-safe behaviour, not a tuned toy.
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c shared_buffers=128MB" start >/dev/null || {
      cat "$dir/server.log" >&2
      exit 1
    }
    echo "Host=127.0.0.1;Port=$port;Username=lvtest;Password=$password;Database=postgres"
    ;;
  stop)
    if bin=$(find_bin) && [[ -d "$dir/data" ]]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
