#!/usr/bin/env bash
# Deploy rehearsal: applies the synthesized stacks, unchanged, with the real engine and the pinned AWS
# provider to moto (an AWS API emulator) on a free loopback port, plans again (no changes allowed),
# checks the result in the emulator and destroys everything. See docs/rehearsals.md, "Deploy rehearsal".
# First the emulator's own tests (rehearsals/deploy/test_gaps.py). Working copies and logs go to a temporary
# directory (kept, and named, when the rehearsal fails); the repository gets nothing but cdktf.out.
# Knobs: REHEARSE_ONLY="dev staging" (environments; default all), REHEARSE_PLAN_ROLE=0 (skip planning each
# environment as its CI plan role with IAM enforced; on by default), REHEARSE_KEEP=1 (keep the working
# directory), REHEARSE_TIMEOUT (seconds, default 1800).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools-env.sh
. "$ROOT/scripts/tools-env.sh"
cd "$ROOT"
# Nothing written into the repository: no __pycache__ next to rehearsal/.
export PYTHONDONTWRITEBYTECODE=1

die() { echo "rehearse: $*" >&2; exit 2; }
[ -n "$TF_BIN" ] || die "no engine found; run: npm run setup:tools"
[ -x "$MOTO_PYTHON" ] || die "no moto venv at $MOTO_VENV; run: npm run setup:tools"
if [ "$PLATFORM_USE_REGISTRY" != "1" ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then
  die "$TF_CLI_CONFIG_FILE is missing; run: npm run setup:tools"
fi

STACKS_DIR="${PLATFORM_STACKS_DIR:-$ROOT/cdktf.out/stacks}"
if ! compgen -G "$STACKS_DIR/*/cdk.tf.json" >/dev/null; then
  echo "rehearse: no synthesized stacks; running npm run synth"
  npm run --silent synth
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/rehearse.XXXXXX")"
PID_FILE="$WORK/emulator.pid"
ok=0
cleanup() {
  "$MOTO_PYTHON" rehearsals/deploy/emulator.py stop --pid-file "$PID_FILE" || true
  if [ "$ok" = 1 ] && [ "${REHEARSE_KEEP:-0}" != 1 ]; then
    rm -rf "$WORK"
  else
    echo "rehearse: working copies, logs and the emulator's log are in $WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$SECONDS
echo "rehearse: emulator tests (rehearsals/deploy/test_gaps.py)"
timeout 300 "$MOTO_PYTHON" -m pytest -q -p no:cacheprovider rehearsals/deploy
echo "rehearse: emulator tests ok ($((SECONDS - start)) s)"

account="$(jq -r '.provider.aws[0].allowed_account_ids[0]' "$STACKS_DIR/bootstrap/cdk.tf.json")"
port="$("$MOTO_PYTHON" rehearsals/deploy/emulator.py start --account-id "$account" \
  --port-file "$WORK/emulator.port" --pid-file "$PID_FILE" --log "$WORK/emulator.log")"
echo "rehearse: moto $MOTO_VERSION with the rehearsal's extension on 127.0.0.1:$port (account $account); $("$TF_BIN" version | head -n1)"

args=(--port "$port" --stacks "$STACKS_DIR" --work "$WORK" --tf-bin "$TF_BIN")
if [ -n "${REHEARSE_ONLY:-}" ]; then
  read -r -a only <<<"$REHEARSE_ONLY"
  args+=(--only "${only[@]}")
fi
[ "${REHEARSE_PLAN_ROLE:-1}" = 1 ] || args+=(--no-plan-role)
timeout "${REHEARSE_TIMEOUT:-1800}" "$MOTO_PYTHON" rehearsals/deploy/rehearse.py "${args[@]}"
ok=1
echo "rehearse: done in $((SECONDS - start)) s"
