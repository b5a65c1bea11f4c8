#!/usr/bin/env bash
# One region of two zones on this machine:
#   etcd     3 members (zone a, zone b, and a witness in zone c) for Patroni's leader lock;
#   Postgres 2 nodes under Patroni, the primary in one zone and a synchronous standby in the other;
#   Stratus  every service in each zone (one `stratus run --targets all`, or one process per service), each
#            reaching whichever node is primary (Npgsql multi-host, Target Session Attributes=read-write), and
#            a host agent per zone that fails over between the zones' instances. Every instance serves HTTPS
#            with a certificate of the lab's own CA (DIR/tls, make-ca.sh); the host agents pin that CA.
# Usage: deploy/local-region/up.sh [DIR]   (default /tmp/stratus-region; down.sh DIR stops it all)
# Settings (environment):
#   STRATUS_REGION_BASE_PORT   ports are BASE (default 17000) + offsets, see README.md
#   STRATUS_REGION_NETNS=1     each zone in its own network namespace (root only), so that a zone can be cut off
#                              with `ip link set ZONE-LINK down`; without it everything is on 127.0.0.1
#   STRATUS_REGION_SPLIT=1     one process per service per zone instead of one for all services
#   STRATUS_REGION_HOSTS       simulated (default: a host agent with fake VMs per zone) or none
#   STRATUS_REGION_QEMU_IMAGES a folder of image folders: adds a host agent with real QEMU VMs in zone b, as
#                              region lab-1
#   STRATUS_REGION_DB_HOSTS    host:port,host:port for the instances' database (a proxy); default the two nodes
#   STRATUS_BOOTSTRAP_PASSWORD the operator's password (default: generated, in DIR/stratus-data/operator-password)
# Settings for one of two regions (deploy/local-regions/up.sh sets them; without them, one region as above):
#   STRATUS_REGION_NAME        the region's name (default region-1; zones NAMEa and NAMEb); names the Patroni members too
#   STRATUS_REGION_ETCD_MEMBERS 3 (default: zones a, b and the witness c) or 1 (zone a only)
#   STRATUS_REGION_STANDBY_OF  host:port of another region's primary: this region's Patroni cluster is a standby
#                              cluster replicating from it (asynchronously), and its database and roles come from there
#   STRATUS_REGION_DB_PASSWORD_FILE the database password (a standby cluster must use its source's; default: generated)
#   STRATUS_REGION_INSTANCES   all (default) or none: only etcd and PostgreSQL, no Stratus and no host agents
#   STRATUS_REGION_FRONT_DOOR_URLS URL,...: the instances follow this front door's lease (Stratus__Region__*), and
#                              promote or demote the region's cluster through Patroni (Stratus__Region__Patroni__*)
#   STRATUS_REGION_OTHER_PATRONI URL,...: the other region's Patroni REST API, whose leader this one replicates from
#                              when demoted
#   STRATUS_REGION_PEER_NAME   the other region's name: the compute service knows its zones too (one shared database)
#   STRATUS_REGION_CONTROL_URL where the operator signs in and makes the hosts' enrollment tokens (default: zone a's
#                              instance; the front door for a region that is not writable)
#   STRATUS_REGION_WAIT_HOSTS  1 (default) waits until the host agents are ready; 0 does not (a standby region's host
#                              agents enroll once their region is writable)
#   STRATUS_REGION_AGENT_FALLBACK_URLS URL,...: the host agents' last control-plane URLs, after their own region's
#                              instances (a front door: a standby region's instances refuse the agents' writes, 503)
# Every process has a script DIR/procs/NAME.sh that starts it again (kill -9 one, then run its script).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=$(realpath -m "${1:-/tmp/stratus-region}")
base=${STRATUS_REGION_BASE_PORT:-17000}
netns=${STRATUS_REGION_NETNS:-0}
split=${STRATUS_REGION_SPLIT:-0}
hosts=${STRATUS_REGION_HOSTS:-simulated}
qemu_images=${STRATUS_REGION_QEMU_IMAGES:-}
stratus=${STRATUS_BIN:-$repo/src/Stratus/bin/Release/net10.0/stratus}
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
services=(identity diagnostics compute provisioning gateway portal images network)
region_name=${STRATUS_REGION_NAME:-region-1}
etcd_members=${STRATUS_REGION_ETCD_MEMBERS:-3}
standby_of=${STRATUS_REGION_STANDBY_OF:-}
instances=${STRATUS_REGION_INSTANCES:-all}
front_door_urls=${STRATUS_REGION_FRONT_DOOR_URLS:-}
other_patroni=${STRATUS_REGION_OTHER_PATRONI:-}
peer_region=${STRATUS_REGION_PEER_NAME:-}
control_url=${STRATUS_REGION_CONTROL_URL:-}
agent_fallback=${STRATUS_REGION_AGENT_FALLBACK_URLS:-}
wait_hosts=${STRATUS_REGION_WAIT_HOSTS:-1}
# Patroni member names must differ between a primary cluster and its standby cluster (they are replication
# application names): a named region prefixes them.
member_prefix=${STRATUS_REGION_NAME:+$region_name-}

for tool in etcd patroni "$pgbin/postgres" curl openssl; do
  command -v "$tool" >/dev/null || [ -x "$tool" ] || { echo "error: $tool is missing: apt-get install etcd-server patroni postgresql curl openssl" >&2; exit 1; }
done
[ "$instances" = none ] || [ -x "$stratus" ] || { echo "error: no stratus binary at $stratus: run 'dotnet build src/Stratus -c Release' (or set STRATUS_BIN)" >&2; exit 1; }
[ ! -e "$dir/pids" ] || { echo "error: $dir already runs a region (down.sh $dir first)" >&2; exit 1; }
case "$hosts" in simulated|none) ;; *) echo "error: STRATUS_REGION_HOSTS is simulated or none, not '$hosts'" >&2; exit 1 ;; esac
case "$etcd_members" in 1|3) ;; *) echo "error: STRATUS_REGION_ETCD_MEMBERS is 1 or 3, not '$etcd_members'" >&2; exit 1 ;; esac
case "$instances" in all|none) ;; *) echo "error: STRATUS_REGION_INSTANCES is all or none, not '$instances'" >&2; exit 1 ;; esac
if [ "$netns" = 1 ] && [ "$(id -u)" != 0 ]; then echo "error: STRATUS_REGION_NETNS=1 needs root (ip netns)" >&2; exit 1; fi

mkdir -p "$dir/logs" "$dir/procs"
: > "$dir/pids"
as_postgres=()
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root: the database side runs as 'postgres'.
  as_postgres=(runuser -u postgres --)
fi

# --- Addresses: one per zone (a network namespace each, on a bridge), or 127.0.0.1 for all ---
declare -A ip ns_prefix
subnet=""
if [ "$netns" = 1 ]; then
  net="10.77.$(((base / 100) % 256))"
  subnet="$net.0/24"
  bridge="s${base}br"
  # The names are the base port's: a run of the same lab that was killed (not stopped with down.sh) leaves its
  # bridge and namespaces behind, and nothing but such a run uses these names; they go before new ones are made.
  if ip link show "$bridge" >/dev/null 2>&1 || ip netns list | grep -q "^stratus$base-"; then
    echo "removing the network of an earlier run on base $base that was not stopped (its bridge $bridge, namespaces stratus$base-*)" >&2
    ip link del "$bridge" 2>/dev/null || true
    for zone in a b c; do ip netns del "stratus$base-$zone" 2>/dev/null || true; done
  fi
  ip link add "$bridge" type bridge
  ip addr add "$net.1/24" dev "$bridge"
  ip link set "$bridge" up
  echo "bridge $bridge" >> "$dir/network"
  i=0
  for zone in a b c; do
    i=$((i + 1))
    ns="stratus$base-$zone"
    ip netns add "$ns"
    echo "netns $ns" >> "$dir/network"
    ip link add "s$base$zone" type veth peer name eth0 netns "$ns"
    ip link set "s$base$zone" master "$bridge" up
    ip netns exec "$ns" ip addr add "$net.1$i/24" dev eth0
    ip netns exec "$ns" ip link set eth0 up
    ip netns exec "$ns" ip link set lo up
    ip[$zone]="$net.1$i"
    # nsenter, not `ip netns exec`: that mounts a sysfs of its own over /sys, which hides /sys/fs/cgroup from the
    # host agent (its guests' limits, ADR 0007); only the network namespace is wanted.
    ns_prefix[$zone]="nsenter --net=/run/netns/$ns"
    # The zone's link on the bridge: down cuts the zone off from the others and from this machine.
    echo "$zone s$base$zone" >> "$dir/zone-links"
  done
else
  for zone in a b c; do ip[$zone]=127.0.0.1; ns_prefix[$zone]=""; done
fi
host_ip=$([ "$netns" = 1 ] && echo "${net}.1" || echo 127.0.0.1)

# --- TLS: the lab's CA and one server certificate for every address an instance listens on (ADR 0013) ---
"$here/make-ca.sh" "$dir/tls" "${ip[a]}" "${ip[b]}"
tls=(--tls-cert "$dir/tls/server.pem" --tls-key "$dir/tls/server.key" --ca-cert "$dir/tls/ca.pem")
ca_pin=$(cat "$dir/tls/pin")
https() { curl --cacert "$dir/tls/ca.pem" "$@"; }  # curl that trusts the lab's CA (and only it)

start() {  # name, zone, command...: writes procs/NAME.sh, which starts it in the background in the zone
  local name=$1 zone=$2; shift 2
  {
    echo "#!/usr/bin/env bash"
    echo "# Starts $name (zone $zone) in the background; logs to logs/$name.log, its pid is the last '$name' line of pids."
    echo "cd $(printf %q "$dir")"
    # shellcheck disable=SC2086
    echo "setsid ${ns_prefix[$zone]} $(printf '%q ' "$@") >> logs/$name.log 2>&1 < /dev/null &"
    echo "echo \"$name \$!\" >> pids"
  } > "$dir/procs/$name.sh"
  chmod +x "$dir/procs/$name.sh"
  "$dir/procs/$name.sh"
}

wait_for() {  # what, seconds, command...: the last process started must stay alive meanwhile
  local what=$1 seconds=$2 last
  shift 2
  last=$(tail -1 "$dir/pids")
  for _ in $(seq "$((seconds * 2))"); do
    if "$@" > /dev/null 2>&1; then return 0; fi
    if ! kill -0 "${last#* }" 2>/dev/null; then
      echo "error: ${last% *} exited; the end of $dir/logs/${last% *}.log:" >&2
      tail -5 "$dir/logs/${last% *}.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "error: $what did not come up within $seconds s; see $dir/logs" >&2
  exit 1
}

# --- etcd: three members, one per zone (c is a witness zone with no database and no instance), or one in zone a ---
# Patroni talks to etcd through its v2 API (--enable-v2, "etcd:" below), not v3: Debian's Patroni 3.0.2 reads
# etcd v3 without quorum and, when its lease has lapsed, writes the leader key without comparing it with what is
# there. After a partition the old primary read its old lock from its rejoining etcd member and wrote it over the
# new primary's: both were primary for a moment and the writes the new one had acknowledged were rewound away.
# The v2 API renews the lock only if it still holds its own name (compare-and-swap). See docs/adr/0006.
# --pre-vote: a member cut off from the others does not force an election when it comes back (no stalled DCS,
# no needless demotion of the new primary).
etcd_zones=(a b c)
[ "$etcd_members" = 3 ] || etcd_zones=(a)
etcd_cluster="" etcd_hosts=""
i=0
for zone in "${etcd_zones[@]}"; do
  etcd_cluster+="${etcd_cluster:+,}etcd-$zone=http://${ip[$zone]}:$((base + 2 * i + 1))"
  etcd_hosts+="${etcd_hosts:+,}${ip[$zone]}:$((base + 2 * i))"
  i=$((i + 1))
done
i=0
for zone in "${etcd_zones[@]}"; do
  client=$((base + 2 * i)) peer=$((base + 2 * i + 1))
  start "etcd-$zone" "$zone" etcd --name "etcd-$zone" --data-dir "$dir/etcd-$zone" \
    --listen-client-urls "http://${ip[$zone]}:$client" --advertise-client-urls "http://${ip[$zone]}:$client" \
    --listen-peer-urls "http://${ip[$zone]}:$peer" --initial-advertise-peer-urls "http://${ip[$zone]}:$peer" \
    --initial-cluster "$etcd_cluster" --initial-cluster-state new --initial-cluster-token stratus-region --pre-vote --enable-v2
  i=$((i + 1))
done
wait_for "etcd" 30 curl -sf "http://${ip[a]}:$base/health"
echo "etcd: $etcd_members member(s) at $etcd_hosts"

# --- PostgreSQL under Patroni: node a and node b, synchronous replication between the zones ---
if [ -n "${STRATUS_REGION_DB_PASSWORD_FILE:-}" ]; then
  password=$(cat "$STRATUS_REGION_DB_PASSWORD_FILE")
else
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
fi
echo "$password" > "$dir/db-password"
chmod 600 "$dir/db-password"
clients=${subnet:-127.0.0.1/32}
standby_yaml=""
if [ -n "$standby_of" ]; then
  # A Patroni standby cluster: its leader (the "standby leader") replicates from the other region's primary, its
  # replica from it (cascading). One node, not a list: Patroni 3.0.2 takes one port here (int(port) in its rewind
  # check), and a list of hosts would let it rewind from a replica. Patroni keeps this in the region's DCS; promotion
  # removes it and demotion sets it again (PATCH /config, src/Stratus.Platform/Regions/PatroniRegionStore.cs).
  standby_yaml="    standby_cluster:
      host: ${standby_of%:*}
      port: ${standby_of##*:}
      create_replica_methods: [basebackup]"
fi
for zone in a b; do
  offset=$([ "$zone" = a ] && echo 0 || echo 1)
  node="$dir/pg-$zone"
  mkdir -p "$node"
  cat > "$node/patroni.yml" <<YAML
scope: stratus-region
name: ${member_prefix}pg-$zone
restapi:
  listen: ${ip[$zone]}:$((base + 20 + offset))
  connect_address: ${ip[$zone]}:$((base + 20 + offset))
etcd:
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
        # ...and once the standby has applied it: while the primary is away, reads answered by the standby
        # (Target Session Attributes=prefer-primary for GETs) see every write that was acknowledged.
        synchronous_commit: remote_apply
        max_connections: 600
        wal_log_hints: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        # No replication slot between the regions: keep enough WAL for the other region's standby cluster to catch up.
        wal_keep_size: 512MB
$standby_yaml
  initdb:
    - encoding: UTF8
    - locale: C
    - data-checksums
postgresql:
  listen: ${ip[$zone]}:$((base + 10 + offset))
  connect_address: ${ip[$zone]}:$((base + 10 + offset))
  data_dir: $node/data
  bin_dir: $pgbin
  pgpass: $node/pgpass
  # A new replica's copy starts at once, not after a spread checkpoint of its source (minutes for another region's
  # standby cluster).
  basebackup:
    - checkpoint: fast
  authentication:
    superuser: {username: postgres, password: "$password"}
    replication: {username: replicator, password: "$password"}
    rewind: {username: rewinder, password: "$password"}
  parameters:
    unix_socket_directories: "$node"
  pg_hba:
    - local all all trust
    - host replication replicator $clients scram-sha-256
    - host all all $clients scram-sha-256
YAML
  [ ${#as_postgres[@]} -eq 0 ] || chown -R postgres:postgres "$node"
  chmod 700 "$node"
  start "patroni-$zone" "$zone" "${as_postgres[@]}" patroni "$node/patroni.yml"
  # The first node bootstraps the cluster (or, in a standby cluster, copies the other region's); the second then clones it.
  if [ "$zone" = a ] && [ -z "$standby_of" ]; then
    wait_for "the primary (node a)" 60 curl -sf "http://${ip[a]}:$((base + 20))/primary"
  elif [ "$zone" = a ]; then
    wait_for "the standby leader (node a)" 120 curl -sf "http://${ip[a]}:$((base + 20))/standby-leader"
  fi
done
if [ -z "$standby_of" ]; then
  wait_for "the synchronous standby (node b)" 90 curl -sf "http://${ip[b]}:$((base + 21))/sync"
  echo "postgres: primary ${ip[a]}:$((base + 10)) (zone a), synchronous standby ${ip[b]}:$((base + 11)) (zone b)"
  PGPASSWORD=$password "$pgbin/psql" -q -h "${ip[a]}" -p $((base + 10)) -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -c "CREATE ROLE stratus LOGIN PASSWORD '$password'" -c "CREATE DATABASE stratus OWNER stratus"
else
  # A replica of a standby cluster replicates from the standby leader (cascading): it is not synchronous.
  wait_for "the replica (node b)" 90 curl -sf "http://${ip[b]}:$((base + 21))/replica"
  echo "postgres: standby cluster of $standby_of: standby leader ${ip[a]}:$((base + 10)) (zone a), replica ${ip[b]}:$((base + 11)) (zone b)"
fi
db_hosts=${STRATUS_REGION_DB_HOSTS:-${ip[a]}:$((base + 10)),${ip[b]}:$((base + 11))}
# One of two regions (a front door): a standby region's cluster has no read-write node, and its instances must still
# start and serve reads from it (their writes are refused as read-only, 25006, until a lease lets them write and they
# promote it): the lease decides which region writes, the connection only prefers the region's primary.
session=read-write
[ -z "$front_door_urls" ] || session=prefer-primary
database="Host=$db_hosts;Database=stratus;Username=stratus;Password=$password;Target Session Attributes=$session;Host Recheck Seconds=2;Timeout=5;Command Timeout=20"
echo "$database" > "$dir/database"
chmod 600 "$dir/database"
if [ "$instances" = none ]; then
  echo
  echo "Databases of $region_name up in $dir (no Stratus instances). Patroni: patronictl -c $dir/pg-a/patroni.yml list    Stop it all: $here/down.sh $dir"
  exit 0
fi

# --- Stratus: every service in each zone, on one shared data folder (keys, operator password, gallery) ---
mkdir -p "$dir/stratus-data"
if [ -n "$qemu_images" ]; then
  # The images service lists the gallery from here; the QEMU host reads the same folders.
  mkdir -p "$dir/stratus-data/images"
  ln -sfn "$(realpath "$qemu_images")" "$dir/stratus-data/images/gallery"
fi
regions=(
  "Stratus__Compute__Regions__0__Name=$region_name" "Stratus__Compute__Regions__0__DisplayName=Region ${region_name#region-}"
  "Stratus__Compute__Regions__0__Zones__0=${region_name}a" "Stratus__Compute__Regions__0__Zones__1=${region_name}b"
)
if [ -n "$front_door_urls" ]; then
  # One of two regions: the instances write only while the front door's lease says their region is the writable one,
  # and promote or demote their region's Patroni cluster when it changes (docs/adr/0018).
  # The front door runs on this machine: its X-Forwarded-* headers (the client's address, its scheme and host) count.
  regions+=("Stratus__Region__Name=$region_name" "Stratus__TrustedProxies=127.0.0.1")
  i=0
  for url in ${front_door_urls//,/ }; do regions+=("Stratus__Region__FrontDoorUrls__$i=$url"); i=$((i + 1)); done
  regions+=("Stratus__Region__Patroni__RestUrls__0=http://${ip[a]}:$((base + 20))" "Stratus__Region__Patroni__RestUrls__1=http://${ip[b]}:$((base + 21))")
  i=0
  for url in ${other_patroni//,/ }; do regions+=("Stratus__Region__Patroni__OtherRegionRestUrls__$i=$url"); i=$((i + 1)); done
fi
if [ -n "$peer_region" ]; then
  # Both regions' instances share one database (replicated): each knows the other's region and zones too.
  regions+=("Stratus__Compute__Regions__1__Name=$peer_region" "Stratus__Compute__Regions__1__DisplayName=Region ${peer_region#region-}"
    "Stratus__Compute__Regions__1__Zones__0=${peer_region}a" "Stratus__Compute__Regions__1__Zones__1=${peer_region}b")
fi
if [ -n "$qemu_images" ]; then
  n=$([ -n "$peer_region" ] && echo 2 || echo 1)
  regions+=("Stratus__Compute__Regions__${n}__Name=lab-1" "Stratus__Compute__Regions__${n}__DisplayName=Lab 1 (real VMs)" "Stratus__Compute__Regions__${n}__Zones__0=lab-1b")
fi

# Service identities (ADR 0010): each client service's secret, which its instances and identity's get, and
# identity's master key, which only identity's instances get (it seals the signing keys in the shared store).
service_clients=(gateway provisioning images identity compute diagnostics portal network)
mkdir -p "$dir/secrets"
chmod 700 "$dir/secrets"
for c in "${service_clients[@]}"; do
  [ -s "$dir/secrets/$c" ] || head -c 32 /dev/urandom | base64 > "$dir/secrets/$c"
done
[ -s "$dir/secrets/master.key" ] || head -c 32 /dev/urandom | base64 > "$dir/secrets/master.key"
chmod 600 "$dir/secrets"/*
credentials_of() {  # service (or all): the environment that instance gets for its identity
  local c
  for c in "${service_clients[@]}"; do
    if [ "$1" = all ] || [ "$1" = identity ] || [ "$1" = "$c" ]; then
      echo "Stratus__Clients__${c}__Secret=$(cat "$dir/secrets/$c")"
    fi
  done
  if [ "$1" = all ] || [ "$1" = identity ]; then
    echo "Stratus__Identity__MasterKeyFile=$dir/secrets/master.key"
  fi
}

port_of() {  # zone, service (or all): where that instance listens
  local zone_index=$([ "$1" = a ] && echo 0 || echo 1) index=0
  if [ "$2" != all ]; then
    for s in "${services[@]}"; do [ "$s" = "$2" ] && break; index=$((index + 1)); done
  fi
  echo $((base + 100 + 10 * zone_index + index))
}

: > "$dir/instances"
for zone in a b; do
  other=$([ "$zone" = a ] && echo b || echo a)
  if [ "$split" = 1 ]; then
    # Each instance calls the other services in its own zone first, the other zone's when those do not answer.
    service_urls=()
    for s in "${services[@]}"; do
      service_urls+=("Stratus__Services__${s}__Url=https://${ip[$zone]}:$(port_of "$zone" "$s"),https://${ip[$other]}:$(port_of "$other" "$s")")
    done
    targets=("${services[@]}")
  else
    service_urls=()
    targets=(all)
  fi
  for target in "${targets[@]}"; do
    port=$(port_of "$zone" "$target")
    name=$([ "$target" = all ] && echo "stratus-$zone" || echo "$target-$zone")
    mapfile -t credentials < <(credentials_of "$target")
    start "$name" "$zone" env "${regions[@]}" "${service_urls[@]}" "${credentials[@]}" "$stratus" run --targets "$target" \
      --database "$database" --data "$dir/stratus-data" --urls "https://${ip[$zone]}:$port" "${tls[@]}"
    echo "$name https://${ip[$zone]}:$port" >> "$dir/instances"
  done
done
# All start at once: the first instance of a service applies its migrations, the other waits on the migration lock.
while read -r name url; do
  wait_for "$name" 180 https -sf "$url/readyz"
done < "$dir/instances"
echo "stratus: $(wc -l < "$dir/instances") instances, listed in $dir/instances"

# --- Host agents: one per zone, given both zones' compute instances (its own first) ---
identity_url=${control_url:-$(grep -E "^(identity|stratus)-a " "$dir/instances" | cut -d' ' -f2)}
compute_url() { grep -E "^(compute|stratus)-$1 " "$dir/instances" | cut -d' ' -f2; }
if [ "$hosts" != none ] || [ -n "$qemu_images" ]; then
  operator_password=${STRATUS_BOOTSTRAP_PASSWORD:-$(cat "$dir/stratus-data/operator-password" 2>/dev/null || true)}
  # Both are writes: behind a front door, the instances answer them only once its lease reached them, which may be a
  # moment after /readyz (503 region-read-only meanwhile). Without a front door the first attempt succeeds.
  token=""
  for _ in $(seq 120); do
    token=$(https -sf -H 'Content-Type: application/json' -d "{\"userName\":\"operator\",\"password\":\"$operator_password\"}" \
      "$identity_url/api/v1/auth/token" | sed -E 's/.*"accessToken":"([^"]+)".*/\1/') && [ -n "$token" ] && break
    token=""
    sleep 0.5
  done
  [ -n "$token" ] || { echo "error: the operator could not sign in at $identity_url within 60 s; see $dir/logs" >&2; exit 1; }
  enrollment() {  # region: a token for a host of that region
    local t
    for _ in $(seq 120); do
      t=$(https -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "{\"region\":\"$1\"}" \
        "${control_url:-$(compute_url a)}/api/v1/hosts/enrollmentTokens" | sed -E 's/.*"token":"([^"]+)".*/\1/') && [ -n "$t" ] && { echo "$t"; return 0; }
      sleep 0.5
    done
    echo "error: no enrollment token for region $1 within 60 s" >&2
    return 1
  }
  host_agent() {  # zone, name, region, region zone, driver, extra options...
    local zone=$1 name=$2 region=$3 region_zone=$4 driver=$5 other
    shift 5
    other=$([ "$zone" = a ] && echo b || echo a)
    start "$name" "$zone" "$stratus" host --control-plane "$(compute_url "$zone"),$(compute_url "$other")${agent_fallback:+,$agent_fallback}" --control-plane-cert-hash "$ca_pin" \
      --enrollment-token "$(enrollment "$region")" --region "$region" --zone "$region_zone" --name "$name" \
      --data "$dir/$name" --driver "$driver" "$@"
  }
  if [ "$hosts" = simulated ]; then
    host_agent a host-a "$region_name" "${region_name}a" simulated --vcpus 4096 --memory-mib 4194304 --disk-gib 65536
    host_agent b host-b "$region_name" "${region_name}b" simulated --vcpus 4096 --memory-mib 4194304 --disk-gib 65536
  fi
  if [ -n "$qemu_images" ]; then
    host_agent b host-lab lab-1 lab-1b qemu --images "$(realpath "$qemu_images")" --vcpus 2 --memory-mib 2048 --disk-gib 64
  fi
  expected=$(( ($([ "$hosts" = simulated ] && echo 2 || echo 0)) + ($([ -n "$qemu_images" ] && echo 1 || echo 0)) ))
  ready_hosts() { [ "$(https -sf -H "Authorization: Bearer $token" "$(compute_url a)/api/v1/hosts" | grep -o '"state":"ready"' | wc -l)" -ge "$expected" ]; }
  if [ "$wait_hosts" = 1 ]; then
    wait_for "$expected host agents" 60 ready_hosts
    echo "hosts: $expected ready (logs/host-*.log)"
  else
    echo "hosts: $expected started, not waited for (logs/host-*.log)"
  fi
fi

echo
echo "Region up in $dir. Operator password: $([ -n "${STRATUS_BOOTSTRAP_PASSWORD:-}" ] && echo "STRATUS_BOOTSTRAP_PASSWORD" || echo "in $dir/stratus-data/operator-password")"
echo "Instances: $dir/instances (HTTPS: trust $dir/tls/ca.pem; hosts pin $ca_pin). This machine reaches the zones from $host_ip."
echo "Patroni: patronictl -c $dir/pg-a/patroni.yml list    Stop it all: $here/down.sh $dir"
