#!/bin/bash
# Shallow-fetches one ref of a git repository into a fresh directory and verifies what was checked out:
#   fetch-code <url> <ref> <dest> [--allow-branch] [--ssh-key FILE [--known-hosts FILE]] [--token-file FILE [--username NAME]]
# <ref> is a full commit SHA, refs/tags/<tag>, or refs/heads/<branch> (only with --allow-branch).
# A commit must be exactly the one checked out; a tag must point where the remote says it points.
# Credentials are read from files at the moment git needs them, never placed on a command line.
set -euo pipefail

die() { echo "fetch-code: $*" >&2; exit 1; }

[ "$#" -ge 3 ] || die "usage: fetch-code <url> <ref> <dest> [--allow-branch] [--ssh-key FILE [--known-hosts FILE]] [--token-file FILE [--username NAME]]"
url="$1" ref="$2" dest="$3"
shift 3
allow_branch=false ssh_key="" known_hosts="" token_file="" username="x-access-token"
while [ "$#" -gt 0 ]; do
  case "$1" in
    --allow-branch) allow_branch=true; shift ;;
    --ssh-key) ssh_key="${2:?}"; shift 2 ;;
    --known-hosts) known_hosts="${2:?}"; shift 2 ;;
    --token-file) token_file="${2:?}"; shift 2 ;;
    --username) username="${2:?}"; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done

if [[ "$ref" =~ ^[0-9a-f]{40}$ ]]; then
  kind=commit
elif [[ "$ref" =~ ^refs/tags/[^[:space:]]+$ ]]; then
  kind=tag
elif [[ "$ref" =~ ^refs/heads/[^[:space:]]+$ ]]; then
  kind=branch
  [ "$allow_branch" = true ] || die "$ref is a branch, and this environment demands a pinned commit or tag"
else
  die "$ref is neither a full commit SHA, refs/tags/<tag> nor refs/heads/<branch>"
fi

git_env=(env GIT_TERMINAL_PROMPT=0)
if [ -n "$ssh_key" ]; then
  ssh_opts="-i $ssh_key -o IdentitiesOnly=yes -o BatchMode=yes"
  if [ -n "$known_hosts" ]; then
    ssh_opts+=" -o StrictHostKeyChecking=yes -o UserKnownHostsFile=$known_hosts"
  else
    ssh_opts+=" -o StrictHostKeyChecking=accept-new"
  fi
  git_env+=("GIT_SSH_COMMAND=ssh $ssh_opts")
fi
git_args=(-c advice.detachedHead=false -c protocol.version=2)
if [ -n "$token_file" ]; then
  [ -r "$token_file" ] || die "cannot read the token file $token_file"
  # The helper runs when git asks for credentials and reads the token from the file then.
  # shellcheck disable=SC2016  # expanded by the credential helper's shell, not here
  git_args+=(-c credential.helper= -c "credential.helper=!f() { echo username=$username; printf 'password=%s\\n' \"\$(cat '$token_file')\"; }; f")
fi

run_git() { "${git_env[@]}" git "${git_args[@]}" "$@"; }

expected=""
case "$kind" in
  commit) expected="$ref" ;;
  tag)
    listing="$(run_git ls-remote "$url" "$ref" "$ref^{}")" || die "cannot list $ref at $url"
    # An annotated tag lists the tag object and the commit it peels to; a lightweight tag only the commit.
    expected="$(awk -v r="$ref^{}" '$2 == r { print $1 }' <<<"$listing")"
    [ -n "$expected" ] || expected="$(awk -v r="$ref" '$2 == r { print $1 }' <<<"$listing")"
    [ -n "$expected" ] || die "tag $ref does not exist at $url"
    ;;
esac

rm -rf "$dest"
mkdir -p "$dest"
git -C "$dest" init -q
run_git -C "$dest" fetch -q --depth 1 --no-tags "$url" "$ref" || die "cannot fetch $ref from $url"
run_git -C "$dest" checkout -q --detach FETCH_HEAD
actual="$(git -C "$dest" rev-parse HEAD)"
if [ -n "$expected" ] && [ "$actual" != "$expected" ]; then
  rm -rf "$dest"
  die "checked out $actual, but $ref should be $expected"
fi
git -C "$dest" config --unset-all credential.helper 2>/dev/null || true
echo "fetch-code: $url $ref -> $actual"
