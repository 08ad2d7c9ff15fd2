#!/usr/bin/env bash
# Runs the real engine's `init -backend=false` + `validate` (AWS provider from the local mirror) on every
# synthesized stack in cdktf.out/stacks. Each stack is validated in a temporary copy, so nothing but
# cdktf.out is written in the repository. Exits non-zero when any stack has an error.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools-env.sh
. "$ROOT/scripts/tools-env.sh"
cd "$ROOT"

if [ -z "$TF_BIN" ]; then
  echo "validate: no engine found; run: npm run setup:tools" >&2
  exit 2
fi
if [ "$(platform_provider_source)" = mirror ] && [ ! -f "$TF_CLI_CONFIG_FILE" ]; then
  echo "validate: $TF_CLI_CONFIG_FILE is missing; run: npm run setup:tools" >&2
  exit 2
fi

STACKS_DIR="${PLATFORM_STACKS_DIR:-$ROOT/cdktf.out/stacks}"
if ! compgen -G "$STACKS_DIR/*/cdk.tf.json" >/dev/null; then
  echo "validate: no synthesized stacks; running npm run synth"
  npm run --silent synth
fi
mapfile -t STACKS < <(find "$STACKS_DIR" -mindepth 2 -maxdepth 2 -name cdk.tf.json -printf '%h\n' | xargs -n1 basename | sort)
[ "${#STACKS[@]}" -gt 0 ] || { echo "validate: no stacks in $STACKS_DIR" >&2; exit 1; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/validate.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
JOBS="${VALIDATE_JOBS:-$(nproc 2>/dev/null || echo 2)}"

# validate_one STACK: copy, init, validate; writes $WORK/STACK.{log,result}.
validate_one() {
  local stack="$1" dir="$WORK/stacks/$1" start rc=0
  start="$(date +%s.%N)"
  mkdir -p "$dir"
  # The synthesized stack without any local engine state a user may have created there.
  tar -C "$STACKS_DIR/$stack" --exclude=.terraform --exclude=.terraform.lock.hcl -cf - . | tar -C "$dir" -xf -
  {
    echo "== $TF_BIN init -backend=false ($stack)"
    "$TF_BIN" -chdir="$dir" init -backend=false -input=false -no-color || rc=$?
    if [ "$rc" -eq 0 ]; then
      echo "== $TF_BIN validate ($stack)"
      "$TF_BIN" -chdir="$dir" validate -json -no-color >"$WORK/$stack.json" || rc=$?
    fi
  } >"$WORK/$stack.log" 2>&1
  printf '%s %s\n' "$rc" "$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')" >"$WORK/$stack.result"
}

# Summarize `validate -json`: prints "<errors> <warnings>" then one line per diagnostic.
summarize() {
  # shellcheck disable=SC2016 # JavaScript template literals, not shell expansions
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`${r.error_count} ${r.warning_count}`);
    for (const d of r.diagnostics || []) {
      const at = d.range ? ` (${d.range.filename}:${d.range.start.line})` : "";
      const addr = d.address ? ` ${d.address}` : "";
      const detail = (d.detail || "").replace(/\s+/g, " ").trim();
      console.log(`    ${d.severity}:${addr} ${d.summary}${at}${detail ? ": " + detail : ""}`);
    }' "$1"
}

echo "validate: $TF_BIN ($("$TF_BIN" version 2>/dev/null | head -n1)), AWS provider $AWS_PROVIDER_VERSION, ${#STACKS[@]} stack(s), $JOBS in parallel"
T0="$(date +%s.%N)"
running=0
for stack in "${STACKS[@]}"; do
  validate_one "$stack" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait

failed=0
for stack in "${STACKS[@]}"; do
  if [ ! -f "$WORK/$stack.result" ]; then
    printf 'validate: %-24s FAIL   could not prepare the working copy\n' "$stack"
    failed=$((failed + 1))
    continue
  fi
  read -r rc secs <"$WORK/$stack.result"
  if [ "$rc" -ne 0 ] && [ ! -s "$WORK/$stack.json" ]; then
    printf 'validate: %-24s FAIL   %6ss  init failed\n' "$stack" "$secs"
    sed 's/^/    /' "$WORK/$stack.log"
    failed=$((failed + 1))
    continue
  fi
  mapfile -t lines < <(summarize "$WORK/$stack.json")
  read -r errors warnings <<<"${lines[0]}"
  if [ "$rc" -eq 0 ] && [ "$errors" -eq 0 ]; then
    printf 'validate: %-24s ok     %6ss  0 errors, %s warnings\n' "$stack" "$secs" "$warnings"
  else
    printf 'validate: %-24s FAIL   %6ss  %s errors, %s warnings\n' "$stack" "$secs" "$errors" "$warnings"
    failed=$((failed + 1))
  fi
  if [ "${#lines[@]}" -gt 1 ]; then
    printf '%s\n' "${lines[@]:1}"
  fi
done

total="$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
if [ "$failed" -gt 0 ]; then
  echo "validate: $failed of ${#STACKS[@]} stack(s) failed (${total}s)"
  exit 1
fi
echo "validate: all ${#STACKS[@]} stack(s) valid (${total}s)"
