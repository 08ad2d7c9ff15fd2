#!/usr/bin/env bash
# The whole test suite, in the order a failure is cheapest to find: tools, lint, types, workflow lint,
# unit tests, the adoption check (a rebranded copy with one more environment), synth, then the real
# engine's validate and the security scan on every synthesized stack, the timed jobs' fault rehearsal (a slot
# runs once through Redis and instance faults), the deploy rehearsal (every stack applied to an AWS API
# emulator, planned again, destroyed), the boot, fleet and migration rehearsals.
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1
bin=node_modules/.bin

passed=0
step() {
  local name=$1
  shift
  local start=$SECONDS
  echo "== ${name}"
  if "$@"; then
    passed=$((passed + 1))
    echo "== ${name}: ok ($((SECONDS - start)) s)"
  else
    echo "== ${name}: FAILED ($((SECONDS - start)) s)"
    echo "${passed} passed, 1 failed"
    exit 1
  fi
}

step "tools" bash scripts/setup-tools.sh
step "lint" bash scripts/lint.sh
step "typecheck" "$bin/tsc" --noEmit
step "workflows" bash -c '. scripts/tools-env.sh && actionlint'
step "unit tests" "$bin/jest" --ci
step "adoption" node scripts/adoption.mjs
step "sample app" bash -c 'cd examples/app && node --test test/app.test.js'
step "synth" npm run -s synth
step "validate" bash scripts/validate.sh
step "scan" bash scripts/scan.sh
step "jobs rehearsal" bash scripts/rehearse-jobs.sh
step "rehearse" bash scripts/rehearse.sh
# The boot rehearsal's rotation and Redis-down cron minute are left to the fleet rehearsal (scenario 5, under
# load) and the jobs rehearsal (Redis down across a slot): `npm run rehearse:boot` alone runs them too.
step "boot rehearsal" env REHEARSAL_SKIP_UNAVAILABLE=1 bash scripts/rehearse-boot.sh boot uploads cron scale-in broken-build
step "fleet rehearsal" env REHEARSAL_SKIP_UNAVAILABLE=1 bash scripts/rehearse-fleet.sh
step "migration rehearsal" env REHEARSAL_SKIP_UNAVAILABLE=1 bash scripts/rehearse-migration.sh
echo "${passed} passed, 0 failed"
