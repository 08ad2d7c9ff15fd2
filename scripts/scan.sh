#!/usr/bin/env bash
# Runs checkov (--framework terraform_json) on every synthesized stack in cdktf.out/stacks. Zero failed
# checks required; the only skipped checks are those in .checkov.yaml, each with a reason.
# checkov 3.3.x cannot parse `terraform.required_version` in JSON, so it scans copies without that one key;
# scripts/checkov_json.py asserts that nothing else differs and that every stack was parsed and checked.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools-env.sh
. "$ROOT/scripts/tools-env.sh"
cd "$ROOT"

CONFIG="$ROOT/.checkov.yaml"
if [ ! -x "$CHECKOV_BIN" ]; then
  echo "scan: checkov $CHECKOV_VERSION is not installed; run: npm run setup:tools" >&2
  exit 2
fi
PY="$CHECKOV_VENV/bin/python"
HELPER="$ROOT/scripts/checkov_json.py"

STACKS_DIR="${PLATFORM_STACKS_DIR:-$ROOT/cdktf.out/stacks}"
if ! compgen -G "$STACKS_DIR/*/cdk.tf.json" >/dev/null; then
  echo "scan: no synthesized stacks; running npm run synth"
  npm run --silent synth
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/scan.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/stacks"

T0="$(date +%s.%N)"
skipped_ids="$("$PY" "$HELPER" skips "$CONFIG")"
n=0
for file in "$STACKS_DIR"/*/cdk.tf.json; do
  stack="$(basename "$(dirname "$file")")"
  mkdir -p "$WORK/stacks/$stack"
  "$PY" "$HELPER" strip "$file" "$WORK/stacks/$stack/cdk.tf.json"
  n=$((n + 1))
done

echo "scan: checkov $CHECKOV_VERSION on $n stack(s); skipped checks (.checkov.yaml): ${skipped_ids:-none}"
rc=0
# No skips on the command line: the report counts the listed checks' failures as skipped, so it shows what
# each skip hides. $WORK holds no .checkov.yaml, so checkov reads no other settings.
# --skip-download and CKV_SKIP_PACKAGE_UPDATE_CHECK keep checkov off the network.
(cd "$WORK" && CKV_SKIP_PACKAGE_UPDATE_CHECK=true "$CHECKOV_BIN" --directory stacks --framework terraform_json \
  --output json --soft-fail --skip-download) >"$WORK/result.json" 2>"$WORK/checkov.err" || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "scan: checkov exited with $rc" >&2
  tail -n 30 "$WORK/checkov.err" >&2
  exit 1
fi
if grep -q -E 'Traceback|ERROR' "$WORK/checkov.err"; then
  echo "scan: checkov reported errors:" >&2
  tail -n 30 "$WORK/checkov.err" >&2
  exit 1
fi

status=0
"$PY" "$HELPER" report "$WORK/result.json" "$WORK/stacks" "$skipped_ids" || status=$?
echo "scan: $([ "$status" -eq 0 ] && echo "no failed checks" || echo "FAILED") ($(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s)"
exit "$status"
