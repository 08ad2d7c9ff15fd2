#!/usr/bin/env bash
# Prints median wall time and peak memory for synthesizing every environment the way cdktf.json runs the
# app, for the floor of loading cdktf alone, their ratio, and for the unit test suite; and the environment
# validator's own time (scripts/bench-validate.mjs).
# Budgets (2 cores): synth <= 1.5 s and <= 200 MB; the validator well under 1 s for every environment; tests <= 30 s.
# Usage: npm run bench [-- RUNS]   (default 5 runs for synth, 3 for tests)
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1
runs=${1:-5}
app=$(node -e 'process.stdout.write(require("./cdktf.json").app)')

# measure LABEL RUNS COMMAND: runs COMMAND (through bash -c) RUNS times under GNU time; the median wall
# time is left in MEDIAN.
MEDIAN=0
measure() {
  local label=$1 n=$2 command=$3 out
  out=$(mktemp)
  for _ in $(seq "$n"); do
    /usr/bin/time -f "%e %M" -a -o "$out" bash -c "$command" >/dev/null 2>&1
  done
  # %M of bash -c is the peak of the largest process in the tree (the node process).
  sort -n "$out" | awk -v label="$label" '
    { wall[NR] = $1; mem[NR] = $2 }
    END {
      n = NR; m = (n % 2) ? wall[(n + 1) / 2] : (wall[n / 2] + wall[n / 2 + 1]) / 2
      max = 0; for (i = 1; i <= n; i++) if (mem[i] > max) max = mem[i]
      printf "%-42s median %6.2f s   peak %6.0f MB   (%d runs)\n", label, m, max / 1024, n
    }'
  MEDIAN=$(sort -n "$out" | awk '{ w[NR] = $1 } END { n = NR; printf "%.3f", (n % 2) ? w[(n + 1) / 2] : (w[n / 2] + w[n / 2 + 1]) / 2 }')
  rm -f "$out"
}

if [ ! -x /usr/bin/time ]; then
  echo "bench needs GNU time (/usr/bin/time): apt-get install -y time" >&2
  exit 1
fi
measure "synth, all environments (cdktf.json app)" "$runs" "$app"
synth=$MEDIAN
measure "floor: node -e \"require('cdktf')\"" "$runs" "node -e \"require('cdktf')\""
floor=$MEDIAN
awk -v s="$synth" -v f="$floor" 'BEGIN { printf "%-42s %.1fx the floor (target <= 2.5x)\n", "synth / floor", s / f }'
node scripts/build.mjs && node scripts/bench-validate.mjs
if [ "${TEST_RUNS:-3}" -gt 0 ]; then
  measure "unit test suite (jest)" "${TEST_RUNS:-3}" "node_modules/.bin/jest --ci"
fi
