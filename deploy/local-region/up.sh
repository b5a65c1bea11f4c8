#!/usr/bin/env bash
# One region of two zones on this machine, on 127.0.0.1 ports:
#   etcd     3 members (zone a, zone b, and a witness in zone c) for Patroni's leader lock;
#   Postgres 2 nodes under Patroni, the primary in one zone and a synchronous standby in the other;
#   Stratus  one instance of every service per zone (`stratus run --targets all`), each reaching whichever
#            node is primary (Npgsql multi-host, Target Session Attributes=read-write).
# Usage: deploy/local-region/up.sh [DIR]   (default /tmp/stratus-region; down.sh DIR stops it all)
# Ports: BASE (default 17000) + offsets; set STRATUS_REGION_BASE_PORT to move them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=$(realpath -m "${1:-/tmp/stratus-region}")
base=${STRATUS_REGION_BASE_PORT:-17000}
stratus=${STRATUS_BIN:-$repo/src/Stratus/bin/Release/net10.0/stratus}
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

for tool in etcd patroni "$pgbin/postgres" curl; do
  command -v "$tool" >/dev/null || [ -x "$tool" ] || { echo "error: $tool is missing: apt-get install etcd-server patroni postgresql curl" >&2; exit 1; }
done
[ -x "$stratus" ] || { echo "error: no stratus binary at $stratus: run 'dotnet build src/Stratus -c Release' (or set STRATUS_BIN)" >&2; exit 1; }
[ ! -e "$dir/pids" ] || { echo "error: $dir already runs a region (down.sh $dir first)" >&2; exit 1; }

mkdir -p "$dir/logs"
: > "$dir/pids"
as_postgres=()
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root: the database side runs as 'postgres'.
  as_postgres=(runuser -u postgres --)
fi

start() {  # name, command...: runs in the background, logs to logs/NAME.log, remembers the pid
  local name=$1; shift
  setsid "$@" > "$dir/logs/$name.log" 2>&1 < /dev/null &
  echo "$name $!" >> "$dir/pids"
}

wait_for() {  # what, seconds, command...: the last process started must stay alive meanwhile
  local what=$1 seconds=$2 last
  shift 2
  last=$(tail -1 "$dir/pids")
  for _ in $(seq "$seconds"); do
    if "$@" > /dev/null 2>&1; then return 0; fi
    if ! kill -0 "${last#* }" 2>/dev/null; then
      echo "error: ${last% *} exited; the end of $dir/logs/${last% *}.log:" >&2
      tail -5 "$dir/logs/${last% *}.log" >&2
      exit 1
    fi
    sleep 1
  done
  echo "error: $what did not come up within $seconds s; see $dir/logs" >&2
  exit 1
}

# --- etcd: three members, one per zone (c is a witness zone with no database and no instance) ---
etcd_cluster="" etcd_hosts=""
for i in 0 1 2; do
  zone=$(printf "\\x$(printf %x $((97 + i)))")
  etcd_cluster+="${etcd_cluster:+,}etcd-$zone=http://127.0.0.1:$((base + 2 * i + 1))"
  etcd_hosts+="${etcd_hosts:+,}127.0.0.1:$((base + 2 * i))"
done
for i in 0 1 2; do
  zone=$(printf "\\x$(printf %x $((97 + i)))")
  client=$((base + 2 * i)) peer=$((base + 2 * i + 1))
  start "etcd-$zone" etcd --name "etcd-$zone" --data-dir "$dir/etcd-$zone" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "$etcd_cluster" --initial-cluster-state new --initial-cluster-token stratus-region
done
wait_for "etcd" 30 curl -sf "http://127.0.0.1:$base/health"
echo "etcd: 3 members on 127.0.0.1:$base,$((base + 2)),$((base + 4))"

# --- PostgreSQL under Patroni: node a and node b, synchronous replication between the zones ---
password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
echo "$password" > "$dir/db-password"
chmod 600 "$dir/db-password"
for zone in a b; do
  offset=$([ "$zone" = a ] && echo 0 || echo 1)
  node="$dir/pg-$zone"
  mkdir -p "$node"
  cat > "$node/patroni.yml" <<YAML
scope: stratus-region
name: pg-$zone
restapi:
  listen: 127.0.0.1:$((base + 20 + offset))
  connect_address: 127.0.0.1:$((base + 20 + offset))
etcd3:
  hosts: $etcd_hosts
bootstrap:
  dcs:
    ttl: 10
    loop_wait: 2
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    # A commit returns once the standby in the other zone has it: losing a zone loses no committed data.
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        max_connections: 400
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
  initdb:
    - encoding: UTF8
    - locale: C
    - data-checksums
postgresql:
  listen: 127.0.0.1:$((base + 10 + offset))
  connect_address: 127.0.0.1:$((base + 10 + offset))
  data_dir: $node/data
  bin_dir: $pgbin
  pgpass: $node/pgpass
  authentication:
    superuser: {username: postgres, password: "$password"}
    replication: {username: replicator, password: "$password"}
    rewind: {username: rewinder, password: "$password"}
  parameters:
    unix_socket_directories: "$node"
  pg_hba:
    - local all all trust
    - host replication replicator 127.0.0.1/32 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256
YAML
  [ ${#as_postgres[@]} -eq 0 ] || chown -R postgres:postgres "$node"
  chmod 700 "$node"
  start "patroni-$zone" "${as_postgres[@]}" patroni "$node/patroni.yml"
  # The first node bootstraps the cluster; the second then clones it.
  if [ "$zone" = a ]; then
    wait_for "the primary (node a)" 60 curl -sf "http://127.0.0.1:$((base + 20))/primary"
  fi
done
wait_for "the synchronous standby (node b)" 90 curl -sf "http://127.0.0.1:$((base + 21))/sync"
echo "postgres: primary 127.0.0.1:$((base + 10)) (zone a), synchronous standby 127.0.0.1:$((base + 11)) (zone b)"

PGPASSWORD=$password "$pgbin/psql" -q -h 127.0.0.1 -p $((base + 10)) -U postgres -d postgres -v ON_ERROR_STOP=1 \
  -c "CREATE ROLE stratus LOGIN PASSWORD '$password'" -c "CREATE DATABASE stratus OWNER stratus"
database="Host=127.0.0.1:$((base + 10)),127.0.0.1:$((base + 11));Database=stratus;Username=stratus;Password=$password;Target Session Attributes=read-write;Timeout=5"
echo "$database" > "$dir/database"
chmod 600 "$dir/database"

# --- Stratus: one instance of every service per zone, on one shared data folder (cookie keys, operator password) ---
mkdir -p "$dir/stratus-data"
: > "$dir/instances"
for zone in a b; do
  port=$((base + 30 + $([ "$zone" = a ] && echo 0 || echo 1)))
  start "stratus-$zone" "$stratus" run --targets all \
    --database "$database" --data "$dir/stratus-data" --urls "http://127.0.0.1:$port"
  echo "http://127.0.0.1:$port" >> "$dir/instances"
  # One at a time at first: the first applies the migrations (the others wait on the migration lock anyway).
  wait_for "stratus in zone $zone" 120 curl -sf "http://127.0.0.1:$port/readyz"
  echo "stratus zone $zone: http://127.0.0.1:$port"
done

echo
echo "Region up in $dir. Operator password: $dir/stratus-data/operator-password (unless STRATUS_BOOTSTRAP_PASSWORD was set)."
echo "Patroni: patronictl -c $dir/pg-a/patroni.yml list    Stop it all: $here/down.sh $dir"
