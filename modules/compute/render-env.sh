#!/bin/bash
# Renders the app's env file from JSON objects: `render-env <output> <owner> <object.json>...`.
# Objects are merged left to right (a later key wins). Each key becomes `export KEY='value'`, single-quoted
# for bash (the consumer is `webapp-env`, which sources the file), so quotes, `$`, `=`, backticks, spaces
# and newlines reach the app unchanged. Strings are written as they are; numbers and booleans as JSON
# text; null as empty; objects and arrays as compact JSON. The file is 0600 and owned by <owner>.
set -euo pipefail

die() { echo "render-env: $*" >&2; exit 1; }
[ "$#" -ge 3 ] || die "usage: render-env <output> <owner> <object.json>..."
output="$1" owner="$2"
shift 2

for file in "$@"; do
  jq -e 'type == "object"' "$file" >/dev/null 2>&1 || die "$file is not a JSON object"
done

bad="$(jq -rs 'add | keys[] | select(test("^[A-Za-z_][A-Za-z0-9_]*$") | not)' "$@")"
[ -z "$bad" ] || die "not valid environment variable names: $(tr '\n' ' ' <<<"$bad")"

tmp="$(mktemp "$(dirname "$output")/.env.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
chmod 0600 "$tmp"
jq -rs '
  add | to_entries[]
  | .value |= (if type == "string" then . elif . == null then "" else tojson end)
  | "export \(.key)=\(.value | @sh)"
' "$@" >"$tmp"
chown "$owner" "$tmp"
mv -f "$tmp" "$output"
trap - EXIT
