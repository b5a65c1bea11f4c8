#!/usr/bin/env bash
# Starts the front door of deploy/local-regions (`stratus run --targets frontdoor`, src/Stratus.FrontDoor) in
# DIR/frontdoor, "a third location": its own data folder (the writable-region decision), its own process group.
# Usage: frontdoor.sh DIR PORT REGION1_BASE REGION2_BASE   (up.sh calls it; procs/frontdoor.sh starts it again)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dir=$1 port=$2 a=$3 b=$4
stratus=${STRATUS_BIN:-$repo/src/Stratus/bin/Release/net10.0/stratus}
door=$dir/frontdoor
tls=$dir/region-1/tls
mkdir -p "$door/logs" "$door/procs" "$door/data"
touch "$door/pids"
# Each region's instances: one `stratus run --targets all` per zone (deploy/local-region: BASE+100 in zone a,
# BASE+110 in zone b). Identity's instances (both regions) check the tokens the front door is given.
settings=(
  Stratus__FrontDoor__Regions__0__Name=region-1
  "Stratus__FrontDoor__Regions__0__Instances__0=https://127.0.0.1:$((a + 100))"
  "Stratus__FrontDoor__Regions__0__Instances__1=https://127.0.0.1:$((a + 110))"
  Stratus__FrontDoor__Regions__1__Name=region-2
  "Stratus__FrontDoor__Regions__1__Instances__0=https://127.0.0.1:$((b + 100))"
  "Stratus__FrontDoor__Regions__1__Instances__1=https://127.0.0.1:$((b + 110))"
  Stratus__FrontDoor__InitialWritableRegion=region-1
  # How long every instance of the writable region must have failed before the other is made writable: an operator
  # sets it from how long an outage should last before a region is given up (the product's default is 30 s).
  "Stratus__FrontDoor__FailoverDelay=${STRATUS_FRONT_DOOR_FAILOVER_DELAY:-00:00:30}"
  # Reads from region-2's standby while it is healthy: B's instances answer GETs from B's database.
  Stratus__FrontDoor__PreferredReadRegion=region-2
  "Stratus__Services__identity__Url=https://127.0.0.1:$((a + 100)),https://127.0.0.1:$((a + 110)),https://127.0.0.1:$((b + 100)),https://127.0.0.1:$((b + 110))"
)
{
  echo "#!/usr/bin/env bash"
  echo "# Starts the front door in the background; logs to logs/frontdoor.log, its pid is the last 'frontdoor' line of pids."
  echo "cd $(printf %q "$door")"
  echo "setsid env $(printf '%q ' "${settings[@]}") $(printf %q "$stratus") run --targets frontdoor --data $(printf %q "$door/data") \\"
  echo "  --urls https://127.0.0.1:$port --tls-cert $(printf %q "$tls/server.pem") --tls-key $(printf %q "$tls/server.key") --ca-cert $(printf %q "$tls/ca.pem") >> logs/frontdoor.log 2>&1 < /dev/null &"
  echo "echo \"frontdoor \$!\" >> pids"
} > "$door/procs/frontdoor.sh"
chmod +x "$door/procs/frontdoor.sh"
"$door/procs/frontdoor.sh"
for _ in $(seq 120); do
  if curl -sf --cacert "$tls/ca.pem" "https://127.0.0.1:$port/healthz" > /dev/null 2>&1 || curl -s --cacert "$tls/ca.pem" -o /dev/null "https://127.0.0.1:$port/frontdoor/v1/regions"; then
    echo "front door: https://127.0.0.1:$port (logs: $door/logs/frontdoor.log)"
    exit 0
  fi
  kill -0 "$(tail -1 "$door/pids" | cut -d' ' -f2)" 2>/dev/null || { echo "error: the front door exited; the end of its log:" >&2; tail -5 "$door/logs/frontdoor.log" >&2; exit 1; }
  sleep 0.5
done
echo "error: the front door did not answer within 60 s; see $door/logs/frontdoor.log" >&2
exit 1
