#!/usr/bin/env bash
# A partition between the two regions of deploy/local-regions/up.sh (started with STRATUS_REGIONS_CGROUPS=1): each
# region's processes run in a cgroup of their own, and an nftables rule drops what a region's sockets send to the
# other region's ports. Both regions still reach the front door (BASE+2000), which sees both healthy.
# Usage: partition.sh DIR cut|heal   (root; down.sh removes the rules too)
set -euo pipefail
dir=$(realpath -m "${1:?usage: partition.sh DIR cut|heal}")
action=${2:?usage: partition.sh DIR cut|heal}
[ -f "$dir/cgroups" ] || { echo "error: $dir runs no regions in cgroups of their own (start it with STRATUS_REGIONS_CGROUPS=1)" >&2; exit 1; }
# DIR/cgroups: "NAME FIRST_PORT LAST_PORT CGROUP" per region, CGROUP relative to /sys/fs/cgroup (as nft names it).
table=$(cat "$dir/nft-table")
case "$action" in
  cut)
    nft add table inet "$table"
    nft add chain inet "$table" out '{ type filter hook output priority 0; }'
    while read -r name _ _ cgroup; do
      while read -r other first last _; do
        [ "$other" = "$name" ] && continue
        # New connections and those open already (replication from the other region's primary): every packet.
        nft add rule inet "$table" out socket cgroupv2 level 1 "\"$cgroup\"" tcp dport "$first-$last" drop
      done < "$dir/cgroups"
    done < "$dir/cgroups"
    echo "regions partitioned (nft table inet $table)"
    ;;
  heal)
    nft delete table inet "$table" 2>/dev/null || true
    echo "partition healed"
    ;;
  *) echo "error: partition.sh DIR cut|heal, not '$action'" >&2; exit 1 ;;
esac
