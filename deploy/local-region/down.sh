#!/usr/bin/env bash
# Stops everything up.sh started in DIR (Stratus and the host agents first, then Patroni with its PostgreSQL,
# then etcd), removes the zones' network namespaces if it made them, and removes DIR.
set -uo pipefail
dir=$(realpath -m "${1:-/tmp/stratus-region}")
[ -f "$dir/pids" ] || { echo "nothing runs from $dir"; exit 0; }
in_stage() {  # stage, name
  case "$1" in
    stratus) [[ "$2" != patroni-* && "$2" != etcd-* ]] ;;
    *) [[ "$2" == "$1"-* ]] ;;
  esac
}
for stage in stratus patroni etcd; do
  while read -r name pid; do
    # Each was started in its own session: the whole group goes (patroni's postgres processes too).
    in_stage "$stage" "$name" && kill -TERM -- "-$pid" 2>/dev/null
  done < "$dir/pids"
  for _ in $(seq 30); do
    alive=0
    while read -r name pid; do
      in_stage "$stage" "$name" && kill -0 -- "-$pid" 2>/dev/null && alive=1
    done < "$dir/pids"
    [ $alive = 0 ] && break
    sleep 1
  done
  while read -r name pid; do
    in_stage "$stage" "$name" && kill -KILL -- "-$pid" 2>/dev/null
  done < "$dir/pids"
done
# Patroni runs PostgreSQL in a session of its own: stop each node's server, then anything still naming DIR.
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
for data in "$dir"/pg-*/data; do
  [ -f "$data/postmaster.pid" ] || continue
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$pgbin/pg_ctl" -D "$data" stop -m fast -t 20 > /dev/null 2>&1
  else
    "$pgbin/pg_ctl" -D "$data" stop -m fast -t 20 > /dev/null 2>&1
  fi
done
pkill -KILL -f -- "$dir/" 2>/dev/null
sleep 1
if [ -f "$dir/network" ]; then
  while read -r kind name; do
    case "$kind" in
      netns) ip netns del "$name" 2>/dev/null ;;
      bridge) ip link del "$name" 2>/dev/null ;;
    esac
  done < "$dir/network"
fi
rm -rf "$dir"
echo "stopped and removed $dir"
