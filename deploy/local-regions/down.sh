#!/usr/bin/env bash
# Stops what deploy/local-regions/up.sh started in DIR: the front door, then each region (deploy/local-region/down.sh),
# and removes DIR.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(realpath -m "${1:-/tmp/stratus-regions}")
[ -d "$dir" ] || { echo "nothing runs from $dir"; exit 0; }
if [ -f "$dir/frontdoor/pids" ]; then
  while read -r _ pid; do kill -TERM -- "-$pid" 2>/dev/null; done < "$dir/frontdoor/pids"
  sleep 1
  while read -r _ pid; do kill -KILL -- "-$pid" 2>/dev/null; done < "$dir/frontdoor/pids"
fi
# B first: its standby cluster would otherwise keep trying to reach A's nodes while they stop.
for region in region-2 region-1; do
  [ -d "$dir/$region" ] && "$here/../local-region/down.sh" "$dir/$region"
done
# A partition (partition.sh) and the regions' cgroups (STRATUS_REGIONS_CGROUPS=1), empty now.
[ ! -f "$dir/nft-table" ] || nft delete table inet "$(cat "$dir/nft-table")" 2>/dev/null
if [ -f "$dir/cgroups" ]; then
  cgroup_root=$(findmnt -t cgroup2 -n -o TARGET | head -1)
  while read -r _ _ _ cgroup; do rmdir "$cgroup_root/${cgroup##*/}" 2>/dev/null; done < "$dir/cgroups"
fi
rm -rf "$dir"
echo "stopped and removed $dir"
