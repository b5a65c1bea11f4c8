#!/usr/bin/env bash
# Stops everything up.sh started in DIR (Stratus first, then Patroni with its PostgreSQL, then etcd) and removes DIR.
set -uo pipefail
dir=$(realpath -m "${1:-/tmp/stratus-region}")
[ -f "$dir/pids" ] || { echo "nothing runs from $dir"; exit 0; }
for prefix in stratus patroni etcd; do
  while read -r name pid; do
    [[ "$name" == "$prefix"* ]] || continue
    # Each was started in its own session: the whole group goes (patroni's postgres processes too).
    kill -TERM -- "-$pid" 2>/dev/null
  done < "$dir/pids"
  for _ in $(seq 30); do
    alive=0
    while read -r name pid; do
      [[ "$name" == "$prefix"* ]] && kill -0 -- "-$pid" 2>/dev/null && alive=1
    done < "$dir/pids"
    [ $alive = 0 ] && break
    sleep 1
  done
  while read -r name pid; do
    [[ "$name" == "$prefix"* ]] && kill -KILL -- "-$pid" 2>/dev/null
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
rm -rf "$dir"
echo "stopped and removed $dir"
