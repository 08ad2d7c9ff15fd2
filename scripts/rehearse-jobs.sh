#!/usr/bin/env bash
# The timed jobs' fault rehearsal (rehearsals/deploy/jobs.py): three stand-in instances run the job runner from dev's
# synthesized boot bundle against real Redis (TLS, AUTH, a replica to fail over to) and the jobs table in
# the AWS API emulator, on a compressed schedule, through faults; it prints a table per fault and fails
# unless every slot completed exactly once (or was recorded missed and alarmed) with no two runs of a slot
# at once. Needs the moto venv and the AWS CLI from scripts/setup-tools.sh, redis-server and openssl.
#   rehearse-jobs.sh [--wrapper cron-lock] [--minute-seconds N] [--keep]
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools-env.sh
. "$ROOT/scripts/tools-env.sh"
die() { echo "rehearse-jobs: $*" >&2; exit 1; }
[ -x "$MOTO_PYTHON" ] || die "no moto venv at $MOTO_VENV; run scripts/setup-tools.sh"
[ -x "$AWSCLI_BIN" ] || die "no AWS CLI at $AWSCLI_BIN; run scripts/setup-tools.sh"
for tool in redis-server redis-cli openssl node git; do
  command -v "$tool" >/dev/null || die "no $tool on PATH (scripts/setup-tools.sh installs the Debian packages)"
done
cd "$ROOT"
# dev's stack (the boot bundle, the jobs table, the cache's parameter group), synthesized into a folder of
# its own (cdktf.out keeps what the other steps synthesized), and dist/ (the validator the jobs pass).
out="$(mktemp -d /var/tmp/webapp-jobs-synth-XXXXXX)"
trap 'rm -rf "$out"' EXIT
node scripts/build.mjs
CDKTF_OUTDIR="$out" ENVIRONMENTS=dev CHECKPOINT_DISABLE=1 node dist/main.js 2>"$out/synth.log" || { cat "$out/synth.log" >&2; exit 1; }
REHEARSAL_AWS_CLI="$AWSCLI_BIN" "$MOTO_PYTHON" "$ROOT/rehearsals/deploy/jobs.py" --stack "$out/stacks/dev/cdk.tf.json" "$@"
