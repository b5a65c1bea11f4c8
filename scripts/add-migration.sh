#!/usr/bin/env bash
# Adds a migration named $1 to every store, for SQLite and for PostgreSQL, so that both providers stay in
# step. tests/Stratus.Platform.Tests/MigrationsTests checks that no model change is left without one.
set -euo pipefail
# Optional further arguments name the only projects to touch, for a new store's first migration:
#   scripts/add-migration.sh Initial Stratus.Images
name=${1:?usage: scripts/add-migration.sh MigrationName [Stratus.Project ...]}
shift
only=" $* "
cd "$(dirname "$0")/.."
dotnet tool restore >/dev/null
# project:context-prefix
stores="Stratus.Platform:Platform Stratus.Identity:Identity Stratus.Diagnostics:Diagnostics Stratus.Compute:Compute Stratus.Images:Images Stratus.Provisioning:Provisioning Stratus.Gateway:Gateway Stratus.Network:Network Stratus.Monitoring:Monitoring"
for store in $stores; do
  project=${store%%:*}
  prefix=${store##*:}
  [ "$only" = "  " ] || [[ "$only" == *" $project "* ]] || continue
  for provider in Sqlite Postgres; do
    folder=Persistence/Migrations/$provider
    [ "$project" = Stratus.Platform ] && folder=Messaging/Migrations/$provider
    echo "== $project $provider"
    dotnet ef migrations add "$name" --project "src/$project" --startup-project "src/$project" \
      --context "${provider}${prefix}DbContext" --output-dir "$folder"
  done
done
