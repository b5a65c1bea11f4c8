#!/usr/bin/env bash
# Builds and runs every test project, then prints one summary line: "N passed, N failed, N skipped".
set -uo pipefail
configuration=${1:-Release}
cd "$(dirname "$0")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT

dotnet build Stratus.slnx -c "$configuration" -nologo -v quiet || { echo "0 passed, 1 failed"; echo "error: the build failed" >&2; exit 1; }
# The default console logger prints each failure in full and one summary line per test project.
dotnet test Stratus.slnx -c "$configuration" --no-build -nologo --blame-hang-timeout 10m --filter "Category!=Chaos" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# The fault-injection harness (reduced: each fault once, small load) runs alone afterwards: it starts a whole
# region of about 25 processes, which would slow the other tests down, and they would disturb its figures.
dotnet test tests/Stratus.Resilience -c "$configuration" --no-build -nologo --blame-hang-timeout 15m \
  --logger "console;verbosity=detailed" 2>&1 | tee -a "$log"
chaos=${PIPESTATUS[0]}
[ "$chaos" -eq 0 ] || status=$chaos

# dotnet test prints one "Passed!/Failed! - Failed: F, Passed: P, Skipped: S, Total: T" line per project.
# A run that was aborted (a test hung past --blame-hang-timeout, or its host crashed) prints no such line; its
# running test counts as failed, so that the summary never says 0 failed of a run that failed.
aborted=$(grep -c '^Test Run Aborted' "$log")
# The harness runs with the detailed logger, which prints a block instead: "Total tests: N", then "Passed: P",
# "Failed: F", "Skipped: S" lines, up to "Total time:". Both kinds count, so that its failure is in the summary.
summary=$(awk -v aborted="$aborted" '
  /(Passed|Failed)! +- +Failed: +[0-9]+/ { n = split($0, f, /[:,]/); failed += f[2]; passed += f[4]; skipped += f[6]; next }
  /^Total tests: [0-9]+/ { block = 1; next }
  block && /^ +Passed: +[0-9]+/ { passed += $2 }
  block && /^ +Failed: +[0-9]+/ { failed += $2 }
  block && /^ +Skipped: +[0-9]+/ { skipped += $2 }
  /Total time:/ { block = 0 }
  END { printf "%d passed, %d failed, %d skipped\n", passed, failed + aborted, skipped }' "$log")
echo
echo "${summary:-0 passed, 0 failed, 0 skipped}"
if [ "$status" -ne 0 ]; then
  # The names again at the very end, where a reader of only the last lines (a CI page) sees them.
  # Each with the first lines of its error message (a browser test's says what the page showed instead) and the
  # line of the test's own code it failed at (the first frame of its stack trace in a file under tests/).
  awk '/^ +Failed [A-Za-z_]/ { name = $0; sub(/^ +Failed /, "", name); want = 0; trace = 0; failing = 1; print "failed: " name; next }
       /^ +Error Message:/ { want = name != "" ? 4 : 0; next }
       /^ +Stack Trace:/ { want = 0; trace = failing; failing = 0; name = ""; next }
       trace && /\/tests\/.*\.cs:line [0-9]+/ { at = $0; sub(/.*\/tests\//, "tests/", at); print "  at " at; trace = 0; next }
       want && NF { line = $0; sub(/^ +/, "", line); print "  " substr(line, 1, 400); if (--want == 0) name = "" }' "$log"
  grep -A1 '^The test running when the crash occurred' "$log" | sed -n '2s/^/failed (run aborted): /p'
  echo "error: some tests failed (dotnet test exited with $status)" >&2
fi
exit "$status"
