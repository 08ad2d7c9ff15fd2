#!/usr/bin/env bash
# Lint for every language the repository holds: prettier's check of the TypeScript and JavaScript layout
# (.prettierrc.json; `npm run format` writes it), eslint over the TypeScript and the JavaScript
# (eslint.config.mjs), ruff over the Python (ruff.toml; pinned in scripts/tools-env.sh, installed by
# scripts/setup-tools.sh). The shell scripts are checked by shellcheck in the unit tests
# (__tests__/boot-script.test.ts). Both linters run; the first failure's status is the script's.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools-env.sh
. scripts/tools-env.sh

status=0
now() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t="$(now)"
node_modules/.bin/prettier --check --log-level warn "**/*.{ts,js,mjs,cjs}" || status=$?
echo "lint: prettier $(took "$t") s"

t="$(now)"
node_modules/.bin/eslint --max-warnings 0 . || { [ "$status" -ne 0 ] || status=1; }
echo "lint: eslint $(took "$t") s"

t="$(now)"
if [ ! -x "$RUFF_BIN" ]; then
  echo "lint: ruff $RUFF_VERSION is not installed ($RUFF_BIN): run npm run setup:tools" >&2
  [ "$status" -ne 0 ] || status=1
else
  "$RUFF_BIN" check --quiet . || { [ "$status" -ne 0 ] || status=1; }
  echo "lint: ruff $(took "$t") s"
fi
exit "$status"
