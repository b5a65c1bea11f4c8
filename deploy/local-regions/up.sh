#!/usr/bin/env bash
# Two regions on this machine (issue 19, docs/adr/0018), each one deploy/local-region/up.sh:
#   region-1 (A)  3 etcd members, a Patroni cluster of 2 nodes (the primary cluster), Stratus in zones a and b;
#   region-2 (B)  1 etcd member, a Patroni *standby cluster* of 2 nodes replicating asynchronously from A's nodes,
#                 Stratus in zones a and b answering reads from B's standby;
#   front door    `stratus run --targets frontdoor` in a third location: it decides which region is writable and
#                 grants the regions' instances their lease; they promote or demote their Patroni cluster.
# Usage: deploy/local-regions/up.sh [DIR]   (default /tmp/stratus-regions; down.sh DIR stops it all)
# Settings (environment):
#   STRATUS_REGION_BASE_PORT     region-1 at BASE (default 18000), region-2 at BASE+1000, the front door at BASE+2000
#   STRATUS_REGIONS_INSTANCES    all (default) or none: the two database clusters only (etcd, Patroni), no Stratus
#   STRATUS_BOOTSTRAP_PASSWORD   the operator's password (default: generated, in DIR/operator-password)
#   STRATUS_REGIONS_CGROUPS      1: each region's processes in a cgroup (v2) of their own, so that partition.sh can cut
#                                the regions apart while both reach the front door (root)
#   STRATUS_FRONT_DOOR_FAILOVER_DELAY  the front door's failover delay (default 00:00:30, the product's; longer than its lease)
#   STRATUS_REGIONS_GALLERY      a folder of gallery image folders (scripts/build-tiny-image.sh), the gallery of both
#                                regions' image stores: policies can then give Cloud PCs on the simulated hosts
#   and those of deploy/local-region/up.sh that both regions share (STRATUS_REGION_SPLIT, STRATUS_REGION_HOSTS).
# Each region's processes have start scripts in DIR/region-N/procs/, the front door's in DIR/frontdoor/procs/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
region_up=$repo/deploy/local-region/up.sh
dir=$(realpath -m "${1:-/tmp/stratus-regions}")
base=${STRATUS_REGION_BASE_PORT:-18000}
instances=${STRATUS_REGIONS_INSTANCES:-all}
stratus=${STRATUS_BIN:-$repo/src/Stratus/bin/Release/net10.0/stratus}
case "$instances" in all|none) ;; *) echo "error: STRATUS_REGIONS_INSTANCES is all or none, not '$instances'" >&2; exit 1 ;; esac
[ "${STRATUS_REGION_NETNS:-0}" = 0 ] || { echo "error: STRATUS_REGION_NETNS=1 is not supported with two regions yet (each region's zones would sit on a bridge of their own, with no route between the regions)" >&2; exit 1; }
[ ! -e "$dir/region-1/pids" ] || { echo "error: $dir already runs two regions (down.sh $dir first)" >&2; exit 1; }
mkdir -p "$dir"

a=$base b=$((base + 1000)) door_port=$((base + 2000))
# Each region's Patroni REST API (deploy/local-region: BASE+20 in zone a, BASE+21 in zone b).
a_patroni="http://127.0.0.1:$((a + 20)),http://127.0.0.1:$((a + 21))"
b_patroni="http://127.0.0.1:$((b + 20)),http://127.0.0.1:$((b + 21))"
door_url=https://127.0.0.1:$door_port

# The front door target is built by its own project (src/Stratus.FrontDoor); without it the regions run without a
# lease (each instance always writable, as one region), which is only right for the databases-only lab.
front_door=0
if [ "$instances" = all ]; then
  if [ -f "$(dirname "$stratus")/Stratus.FrontDoor.dll" ]; then
    front_door=1
  else
    echo "note: this build of stratus has no front door (no Stratus.FrontDoor.dll beside $stratus): it is skipped, and the regions' instances run without a lease, region-2's on its read-only standby"
  fi
fi
export STRATUS_BOOTSTRAP_PASSWORD=${STRATUS_BOOTSTRAP_PASSWORD:-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')}
echo "$STRATUS_BOOTSTRAP_PASSWORD" > "$dir/operator-password"
chmod 600 "$dir/operator-password"

# Each region in a cgroup of its own (partition.sh): every process up.sh starts inherits it.
cgroups=${STRATUS_REGIONS_CGROUPS:-0}
cgroup_root=""
if [ "$cgroups" = 1 ]; then
  cgroup_root=$(findmnt -t cgroup2 -n -o TARGET | head -1)
  [ -n "$cgroup_root" ] && [ "$(id -u)" = 0 ] && command -v nft > /dev/null \
    || { echo "error: STRATUS_REGIONS_CGROUPS=1 needs root, a cgroup v2 hierarchy and nft (apt-get install nftables)" >&2; exit 1; }
  echo "stratus_regions_$base" > "$dir/nft-table"
  : > "$dir/cgroups"
fi
region() {  # name, base port, settings...: runs deploy/local-region/up.sh for that region in DIR/NAME
  local name=$1 port=$2 into=()
  shift 2
  echo "--- $name (ports from $port) ---"
  if [ "$cgroups" = 1 ]; then
    local cgroup="stratus-$base-$name"
    mkdir -p "$cgroup_root/$cgroup"
    # nft names a cgroup by its path under /sys/fs/cgroup (unified/NAME where v2 is mounted beside v1).
    local relative=${cgroup_root#/sys/fs/cgroup}
    relative=${relative#/}
    echo "$name $port $((port + 999)) ${relative:+$relative/}$cgroup" >> "$dir/cgroups"
    into=(bash -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' _ "$cgroup_root/$cgroup")
  fi
  env STRATUS_REGION_NAME="$name" STRATUS_REGION_BASE_PORT="$port" STRATUS_REGION_INSTANCES="$instances" \
    "$@" "${into[@]}" "$region_up" "$dir/$name"
}

# One lab CA for both regions and the front door (kept by make-ca.sh when it is there already).
"$repo/deploy/local-region/make-ca.sh" "$dir/region-1/tls" 127.0.0.1
mkdir -p "$dir/region-2"
cp -a "$dir/region-1/tls" "$dir/region-2/"
if [ -n "${STRATUS_REGIONS_GALLERY:-}" ]; then
  # Each region's instances list the gallery from their own data folder (deploy/local-region keeps what is there).
  for name in region-1 region-2; do
    mkdir -p "$dir/$name/stratus-data/images"
    ln -sfn "$(realpath "$STRATUS_REGIONS_GALLERY")" "$dir/$name/stratus-data/images/gallery"
  done
fi
lease=()
if [ "$front_door" = 1 ]; then
  # First: A's instances write (migrations, the operator, enrollment tokens) only once the front door leases A.
  "$here/frontdoor.sh" "$dir" "$door_port" "$a" "$b"
  # The host agents talk to their own region's instances; while their region is a standby those refuse the agents'
  # writes (503 region-read-only) and the agents move on to the front door, which sends them to the writable region:
  # the hosts of either region stay managed (and their VMs running) whichever region takes writes.
  lease=(STRATUS_REGION_FRONT_DOOR_URLS="$door_url" STRATUS_REGION_AGENT_FALLBACK_URLS="$door_url")
fi
# A: the primary cluster, as one region runs today.
region region-1 "$a" STRATUS_REGION_ETCD_MEMBERS=3 STRATUS_REGION_PEER_NAME=region-2 STRATUS_REGION_OTHER_PATRONI="$b_patroni" "${lease[@]}"

# B: one etcd member. B's etcd holds only the leader lock of B's own Patroni cluster (which of B's two nodes leads
# B); which *region* takes writes is the front door's decision, never B's etcd. Three members would keep B's cluster
# electing a leader when B's zone a is lost; on one machine it would only cost memory (ADR 0018).
# It shares A's database password (its roles are A's, replicated), A's service secrets (one shared database holds
# the hashes).
[ ! -d "$dir/region-1/secrets" ] || cp -a "$dir/region-1/secrets" "$dir/region-2/"
# B's host agents get their enrollment token through the front door (a write: it goes to the writable region), then
# talk to B's instances, which refuse their writes while B is a standby: they enroll and report through the front
# door (their last control-plane URL, above). up.sh does not wait for them.
b_control=()
[ "$front_door" = 1 ] && b_control=(STRATUS_REGION_CONTROL_URL="$door_url" STRATUS_REGION_WAIT_HOSTS=0)
# A's primary is its node a (BASE+10) right after it started.
region region-2 "$b" STRATUS_REGION_ETCD_MEMBERS=1 STRATUS_REGION_STANDBY_OF="127.0.0.1:$((a + 10))" \
  STRATUS_REGION_DB_PASSWORD_FILE="$dir/region-1/db-password" STRATUS_REGION_PEER_NAME=region-1 \
  STRATUS_REGION_OTHER_PATRONI="$a_patroni" "${lease[@]}" "${b_control[@]}"

echo
echo "Two regions up in $dir: region-1 (writable) and region-2 (standby cluster of region-1)."
[ "$front_door" = 1 ] && echo "Front door: $door_url (trust $dir/region-1/tls/ca.pem); operator password in $dir/operator-password."
echo "Patroni: patronictl -c $dir/region-1/pg-a/patroni.yml list; patronictl -c $dir/region-2/pg-a/patroni.yml list"
echo "Stop it all: $here/down.sh $dir"
