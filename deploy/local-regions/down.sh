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
rm -rf "$dir"
echo "stopped and removed $dir"
