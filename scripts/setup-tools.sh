#!/usr/bin/env bash
# Installs, pinned and cached outside the repository, the tools that prove the synthesized output:
# the engine (terraform >= 1.11 from PATH, else OpenTofu built from the Go module proxy), the AWS provider
# built from its Go module and laid out as a filesystem mirror with a CLI config pointing only at it,
# checkov in its own venv, moto[server] (the AWS API emulator) with boto3 and pytest in another, the AWS
# CLI in a third (the timed jobs' rehearsal), ruff (the Python linter) in a fourth, actionlint, vegeta (the fleet rehearsal's load generator), and
# the Debian packages shellcheck, redis-server, redis-tools, jq, openssl, haproxy (the fleet rehearsal's load
# balancer), acl (the rehearsals' EFS) and postgresql (the server binaries under
# /usr/lib/postgresql/<version>/bin, for the database role script's test and the sample app's tests, which
# run real PostgreSQL and Redis).
# Idempotent: a second run with everything cached only checks stamps.
# shellcheck source-path=SCRIPTDIR
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tools-env.sh
. "$ROOT/scripts/tools-env.sh"
case "$PLATFORM_USE_REGISTRY" in
  auto | 0 | 1) ;;
  *) echo "setup-tools: PLATFORM_USE_REGISTRY=$PLATFORM_USE_REGISTRY: use auto, 0 or 1" >&2 && exit 2 ;;
esac

mkdir -p "$PLATFORM_TOOLS_DIR" "$PLATFORM_TOOLS_BIN" "$PLATFORM_TOOLS_DIR/logs"
LOG_DIR="$PLATFORM_TOOLS_DIR/logs"

# One setup at a time per cache (CI and a developer may share the machine).
exec 9>"$PLATFORM_TOOLS_DIR/.setup.lock"
if ! flock -n 9; then
  echo "setup-tools: waiting for another setup run to finish ..."
  flock 9
fi

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
T_ALL="$(now)"
SUMMARY=()
note() { SUMMARY+=("$(printf '%-14s %-9s %6ss  %s' "$1" "$2" "$3" "$4")"); }
die() { echo "setup-tools: $*" >&2; exit 1; }

go_bin() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  else
    die "Go is needed to build $1 (install Go >= 1.24, or put it on PATH)"
  fi
}

# ---------------------------------------------------------------- engine
setup_engine() {
  local t; t="$(now)"
  if [ "$PLATFORM_ENGINE" != "tofu" ] && platform_terraform_ok; then
    note engine present "$(elapsed "$t")" "$(terraform version 2>/dev/null | head -n1) on PATH"
    return
  fi
  [ "$PLATFORM_ENGINE" = "terraform" ] && die "PLATFORM_ENGINE=terraform but no terraform >= $TERRAFORM_MIN_VERSION on PATH"
  # The stacks state required_version >= 1.11, which OpenTofu checks against its own version.
  platform_version_ge "${OPENTOFU_GO_VERSION#v}" "$TERRAFORM_MIN_VERSION" \
    || die "no engine: put terraform >= $TERRAFORM_MIN_VERSION on PATH (the stacks require >= 1.11; the pinned OpenTofu $OPENTOFU_GO_VERSION is older)"
  local tofu="$PLATFORM_TOOLS_BIN/tofu"
  local stamp="$PLATFORM_TOOLS_DIR/opentofu.version"
  if [ -x "$tofu" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$OPENTOFU_GO_VERSION" ]; then
    note engine cached "$(elapsed "$t")" "OpenTofu $OPENTOFU_GO_VERSION ($tofu)"
    return
  fi
  echo "setup-tools: building OpenTofu $OPENTOFU_GO_VERSION from the Go module proxy ..."
  # Built inside its downloaded module (not `go install mod@version`) so the module's replace directives apply.
  local go; go="$(go_bin OpenTofu)"
  local dir
  dir="$("$go" mod download -json "github.com/opentofu/opentofu@$OPENTOFU_GO_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$dir" ] || die "could not download github.com/opentofu/opentofu@$OPENTOFU_GO_VERSION"
  ( cd "$dir" && GOFLAGS="-trimpath -buildvcs=false -mod=readonly" "$go" build \
      -ldflags="-s -w -X github.com/opentofu/opentofu/version.dev=no" -o "$tofu.tmp" ./cmd/tofu ) \
    >"$LOG_DIR/opentofu-build.log" 2>&1 \
    || { tail -n 20 "$LOG_DIR/opentofu-build.log" >&2; die "OpenTofu build failed (log: $LOG_DIR/opentofu-build.log)"; }
  mv -f "$tofu.tmp" "$tofu"
  echo "$OPENTOFU_GO_VERSION" >"$stamp"
  note engine built "$(elapsed "$t")" "OpenTofu $OPENTOFU_GO_VERSION ($tofu)"
}

# ---------------------------------------------------------------- AWS provider mirror
setup_provider() {
  local t; t="$(now)"
  local platform arch
  case "$(uname -m)" in
    x86_64 | amd64) arch=amd64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) arch="$(uname -m)" ;;
  esac
  platform="$(uname -s | tr '[:upper:]' '[:lower:]')_$arch"
  local name="terraform-provider-aws_v${AWS_PROVIDER_VERSION}_x5"
  local rel="hashicorp/aws/$AWS_PROVIDER_VERSION/$platform"
  local store="$PLATFORM_TOOLS_DIR/provider-build/$AWS_PROVIDER_GO_VERSION"
  local bin="$store/$name"
  local stamp="$store/.complete"

  # Registry or build: forced by PLATFORM_USE_REGISTRY=1|0; in auto mode a cached build is used as it is,
  # otherwise the registry when a quick probe reaches it, and the build only when it does not.
  local why from=mirror registry_host=registry.terraform.io
  [ "$(basename "${TF_BIN:-terraform}")" = tofu ] && registry_host=registry.opentofu.org
  case "$PLATFORM_USE_REGISTRY" in
    1) why="PLATFORM_USE_REGISTRY=1" from=registry ;;
    0) why="PLATFORM_USE_REGISTRY=0" ;;
    auto)
      if [ -f "$stamp" ] && [ -x "$bin" ]; then
        why="auto: a build is cached"
      elif why="$(platform_registry_probe "$registry_host" "$platform")"; then
        why="auto: $why" from=registry
      else
        why="auto: $why"
      fi
      # Scripts sourcing tools-env.sh in auto mode follow this decision.
      echo "$from" >"$PLATFORM_PROVIDER_SOURCE_FILE"
      ;;
  esac
  if [ "$from" = registry ]; then
    note aws-provider registry "$(elapsed "$t")" "$why: the engine downloads hashicorp/aws $AWS_PROVIDER_VERSION from $registry_host at init"
    return
  fi
  echo "setup-tools: AWS provider from the local build ($why)"

  if [ -f "$stamp" ] && [ -x "$bin" ]; then
    note aws-provider cached "$(elapsed "$t")" "$AWS_PROVIDER_VERSION from $AWS_PROVIDER_GO_MODULE@$AWS_PROVIDER_GO_VERSION ($why)"
  else
    local go; go="$(go_bin "the AWS provider")"
    echo "setup-tools: building the AWS provider from $AWS_PROVIDER_GO_MODULE@$AWS_PROVIDER_GO_VERSION (long on a cold cache) ..."
    local dir
    dir="$("$go" mod download -json "$AWS_PROVIDER_GO_MODULE@$AWS_PROVIDER_GO_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [ -d "$dir" ] || die "could not download $AWS_PROVIDER_GO_MODULE@$AWS_PROVIDER_GO_VERSION"
    mkdir -p "$store"
    local timer=()
    [ -x /usr/bin/time ] && timer=(/usr/bin/time -v -o "$LOG_DIR/aws-provider-build.time")
    ( cd "$dir" && GOFLAGS="-trimpath -buildvcs=false -mod=readonly" "${timer[@]}" "$go" build \
        -ldflags="-s -w -X $AWS_PROVIDER_GO_MODULE/version.ProviderVersion=$AWS_PROVIDER_VERSION" \
        -o "$bin.tmp" . ) >"$LOG_DIR/aws-provider-build.log" 2>&1 \
      || { tail -n 20 "$LOG_DIR/aws-provider-build.log" >&2; die "AWS provider build failed (log: $LOG_DIR/aws-provider-build.log)"; }
    mv -f "$bin.tmp" "$bin"
    printf '%s@%s built %s\n' "$AWS_PROVIDER_GO_MODULE" "$AWS_PROVIDER_GO_VERSION" "$(date -u +%FT%TZ)" >"$stamp"
    local rss=""
    if [ -f "$LOG_DIR/aws-provider-build.time" ]; then
      rss="$(awk -F': ' '/Maximum resident set size/ { printf ", peak RSS %.1f GiB", $2 / 1048576 }' "$LOG_DIR/aws-provider-build.time")"
    fi
    note aws-provider built "$(elapsed "$t")" "$AWS_PROVIDER_VERSION from $AWS_PROVIDER_GO_MODULE@$AWS_PROVIDER_GO_VERSION$rss ($why)"
  fi

  # Unpacked mirror layout for both registry hostnames, pointing at the one build.
  local host
  for host in registry.terraform.io registry.opentofu.org; do
    mkdir -p "$PLATFORM_PROVIDER_MIRROR/$host/$rel"
    if [ ! "$PLATFORM_PROVIDER_MIRROR/$host/$rel/$name" -ef "$bin" ]; then
      ln -f "$bin" "$PLATFORM_PROVIDER_MIRROR/$host/$rel/$name" 2>/dev/null \
        || cp -f "$bin" "$PLATFORM_PROVIDER_MIRROR/$host/$rel/$name"
    fi
  done

  local cfg
  cfg="$(cat <<EOF
# Written by scripts/setup-tools.sh. Providers come from the local mirror and nowhere else.
provider_installation {
  filesystem_mirror {
    path    = "$PLATFORM_PROVIDER_MIRROR"
    include = ["registry.terraform.io/hashicorp/aws", "registry.opentofu.org/hashicorp/aws"]
  }
}
EOF
)"
  if [ ! -f "$TF_CLI_CONFIG_FILE" ] || [ "$(cat "$TF_CLI_CONFIG_FILE")" != "$cfg" ]; then
    printf '%s\n' "$cfg" >"$TF_CLI_CONFIG_FILE"
  fi
}

# ---------------------------------------------------------------- checkov
pick_python() {
  local p
  for p in "${PLATFORM_PYTHON:-}" python3.11 python3.12 python3.10 python3; do
    [ -n "$p" ] || continue
    if "$p" -c 'import sys, venv; sys.exit(0 if (3, 9) <= sys.version_info[:2] < (3, 13) else 1)' >/dev/null 2>&1; then
      echo "$p"
      return
    fi
  done
  die "checkov $CHECKOV_VERSION needs Python 3.9-3.12 with venv (set PLATFORM_PYTHON)"
}

# Creates the venv $2 afresh with Python $1 and pip-installs the requirements that follow into it (after
# upgrading pip, with --upgrade-pip first); the output goes to $LOG_DIR/<name>-install.log, name being $3.
pip_venv() {
  local py=$1 venv=$2 name=$3 upgrade=0
  shift 3
  if [ "${1:-}" = --upgrade-pip ]; then
    upgrade=1
    shift
  fi
  local log="$LOG_DIR/$name-install.log"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  {
    if [ "$upgrade" = 1 ]; then "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q --upgrade pip; fi
    "$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q "$@"
  } >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "$name install failed (log: $log)"; }
}

setup_checkov() {
  local t; t="$(now)"
  local stamp="$CHECKOV_VENV/.complete"
  if [ -f "$stamp" ] && [ -x "$CHECKOV_BIN" ]; then
    note checkov cached "$(elapsed "$t")" "checkov $CHECKOV_VERSION ($CHECKOV_VENV)"
  else
    local py; py="$(pick_python)"
    echo "setup-tools: installing checkov $CHECKOV_VERSION into $CHECKOV_VENV ($py) ..."
    pip_venv "$py" "$CHECKOV_VENV" checkov --upgrade-pip "checkov==$CHECKOV_VERSION"
    "$CHECKOV_VENV/bin/python" -c "import importlib.metadata as m; assert m.version('checkov') == '$CHECKOV_VERSION'"
    touch "$stamp"
    note checkov installed "$(elapsed "$t")" "checkov $CHECKOV_VERSION ($CHECKOV_VENV, $("$py" --version 2>&1))"
  fi
  ln -sf "$CHECKOV_BIN" "$PLATFORM_TOOLS_BIN/checkov"
}

# ---------------------------------------------------------------- moto (AWS API emulator)
setup_moto() {
  local t; t="$(now)"
  local stamp="$MOTO_VENV/.complete"
  local want="moto[server]==$MOTO_VERSION boto3==$MOTO_BOTO3_VERSION pytest==$MOTO_PYTEST_VERSION"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$MOTO_PYTHON" ]; then
    note moto cached "$(elapsed "$t")" "moto $MOTO_VERSION, boto3 $MOTO_BOTO3_VERSION, pytest $MOTO_PYTEST_VERSION ($MOTO_VENV)"
    return
  fi
  local py; py="$(pick_python)"
  echo "setup-tools: installing moto $MOTO_VERSION into $MOTO_VENV ($py) ..."
  # shellcheck disable=SC2086 # $want is a list of requirement specifiers
  pip_venv "$py" "$MOTO_VENV" moto --upgrade-pip $want
  "$MOTO_PYTHON" -c "import importlib.metadata as m; assert m.version('moto') == '$MOTO_VERSION'; assert m.version('boto3') == '$MOTO_BOTO3_VERSION'; import moto.server, flask"
  echo "$want" >"$stamp"
  note moto installed "$(elapsed "$t")" "moto $MOTO_VERSION, boto3 $MOTO_BOTO3_VERSION, pytest $MOTO_PYTEST_VERSION ($MOTO_VENV)"
}

# ---------------------------------------------------------------- AWS CLI (the timed jobs' rehearsal)
setup_awscli() {
  local t; t="$(now)"
  local stamp="$AWSCLI_VENV/.complete"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$AWSCLI_VERSION" ] && [ -x "$AWSCLI_BIN" ]; then
    note awscli cached "$(elapsed "$t")" "awscli $AWSCLI_VERSION ($AWSCLI_VENV)"
    return
  fi
  local py; py="$(pick_python)"
  echo "setup-tools: installing awscli $AWSCLI_VERSION into $AWSCLI_VENV ($py) ..."
  pip_venv "$py" "$AWSCLI_VENV" awscli "awscli==$AWSCLI_VERSION"
  "$AWSCLI_BIN" --version >>"$LOG_DIR/awscli-install.log" 2>&1 || die "awscli does not run (log: $LOG_DIR/awscli-install.log)"
  echo "$AWSCLI_VERSION" >"$stamp"
  note awscli installed "$(elapsed "$t")" "awscli $AWSCLI_VERSION ($AWSCLI_VENV)"
}

# ---------------------------------------------------------------- ruff (the Python linter)
setup_ruff() {
  local t; t="$(now)"
  local stamp="$RUFF_VENV/.complete"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$RUFF_VERSION" ] && [ -x "$RUFF_BIN" ]; then
    note ruff cached "$(elapsed "$t")" "ruff $RUFF_VERSION ($RUFF_VENV)"
    return
  fi
  local py; py="$(pick_python)"
  echo "setup-tools: installing ruff $RUFF_VERSION into $RUFF_VENV ($py) ..."
  pip_venv "$py" "$RUFF_VENV" ruff "ruff==$RUFF_VERSION"
  [ "$("$RUFF_BIN" --version 2>/dev/null)" = "ruff $RUFF_VERSION" ] || die "ruff does not run or is not $RUFF_VERSION ($RUFF_BIN)"
  echo "$RUFF_VERSION" >"$stamp"
  note ruff installed "$(elapsed "$t")" "ruff $RUFF_VERSION ($RUFF_VENV)"
}

# ---------------------------------------------------------------- actionlint
setup_actionlint() {
  local t; t="$(now)"
  local bin="$PLATFORM_TOOLS_BIN/actionlint"
  if [ -x "$bin" ] && [ "$("$bin" -version 2>/dev/null | head -n1)" = "$ACTIONLINT_GO_VERSION" ]; then
    note actionlint cached "$(elapsed "$t")" "actionlint $ACTIONLINT_GO_VERSION"
    return
  fi
  GOBIN="$PLATFORM_TOOLS_BIN" GOFLAGS="-trimpath -buildvcs=false" \
    "$(go_bin actionlint)" install -ldflags="-s -w" \
    "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_GO_VERSION" >"$LOG_DIR/actionlint-build.log" 2>&1 \
    || { tail -n 20 "$LOG_DIR/actionlint-build.log" >&2; die "actionlint build failed (log: $LOG_DIR/actionlint-build.log)"; }
  note actionlint built "$(elapsed "$t")" "actionlint $ACTIONLINT_GO_VERSION"
}

# ---------------------------------------------------------------- vegeta (the fleet rehearsal's load generator)
setup_vegeta() {
  local t; t="$(now)"
  local bin="$PLATFORM_TOOLS_BIN/vegeta"
  if [ -x "$bin" ] && [ "$(cat "$PLATFORM_TOOLS_DIR/vegeta.version" 2>/dev/null)" = "$VEGETA_GO_VERSION" ]; then
    note vegeta cached "$(elapsed "$t")" "vegeta $VEGETA_GO_VERSION"
    return
  fi
  GOBIN="$PLATFORM_TOOLS_BIN" GOFLAGS="-trimpath -buildvcs=false" \
    "$(go_bin vegeta)" install -ldflags="-s -w" \
    "github.com/tsenart/vegeta/v12@$VEGETA_GO_VERSION" >"$LOG_DIR/vegeta-build.log" 2>&1 \
    || { tail -n 20 "$LOG_DIR/vegeta-build.log" >&2; die "vegeta build failed (log: $LOG_DIR/vegeta-build.log)"; }
  echo "$VEGETA_GO_VERSION" >"$PLATFORM_TOOLS_DIR/vegeta.version"
  note vegeta built "$(elapsed "$t")" "vegeta $VEGETA_GO_VERSION"
}

# ---------------------------------------------------------------- Debian packages
setup_apt() {
  local t; t="$(now)"
  local missing=() pkg cmd
  for pkg in shellcheck redis-server redis-tools jq openssl postgresql debootstrap systemd-container haproxy acl; do
    case "$pkg" in
      redis-tools) cmd=redis-cli ;;
      acl) cmd=setfacl ;;
      systemd-container) cmd=systemd-nspawn ;;
      postgresql)
        # Debian keeps the server binaries off PATH, under /usr/lib/postgresql/<version>/bin.
        compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && command -v psql >/dev/null 2>&1 || missing+=("$pkg")
        continue
        ;;
      *) cmd="$pkg" ;;
    esac
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    note apt present "$(elapsed "$t")" "shellcheck $(shellcheck --version | sed -n 's/^version: //p'), redis $(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p'), postgresql $(psql --version | awk '{print $3}')"
    return
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get; install them with your package manager"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing ${missing[*]}; run as root or install them"
    sudo=(sudo)
  fi
  echo "setup-tools: apt-get install ${missing[*]} ..."
  export DEBIAN_FRONTEND=noninteractive
  if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >"$LOG_DIR/apt.log" 2>&1; then
    "${sudo[@]}" apt-get update -q >>"$LOG_DIR/apt.log" 2>&1
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$LOG_DIR/apt.log" 2>&1 \
      || { tail -n 20 "$LOG_DIR/apt.log" >&2; die "apt-get install failed (log: $LOG_DIR/apt.log)"; }
  fi
  note apt installed "$(elapsed "$t")" "${missing[*]}"
}

# ---------------------------------------------------------------- boot rehearsal rootfs
# A clean Debian system for the boot rehearsal, built once per (build script, package tables, AWS CLI version).
setup_rootfs() {
  local t; t="$(now)"
  local store="$PLATFORM_TOOLS_DIR/rehearsal-rootfs" key dest
  key="$(cat "$ROOT/rehearsals/instances/build-rootfs.sh" "$ROOT/rehearsals/instances/packages.tsv" "$ROOT/rehearsals/instances/old-server.packages" <(echo "$AWSCLI_VERSION $REHEARSAL_DEBIAN_SUITE") | sha256sum | cut -c1-12)"
  dest="$store/$REHEARSAL_DEBIAN_SUITE-$key"
  if [ -x "$dest/lib/systemd/systemd" ]; then
    note rootfs cached "$(elapsed "$t")" "$dest"
  elif [ "$(id -u)" -ne 0 ]; then
    note rootfs skipped "$(elapsed "$t")" "needs root (debootstrap); the boot rehearsal cannot run here"
    return
  else
    echo "setup-tools: building the boot rehearsal's rootfs ($REHEARSAL_DEBIAN_SUITE minbase, awscli $AWSCLI_VERSION) ..."
    mkdir -p "$store"
    bash "$ROOT/rehearsals/instances/build-rootfs.sh" "$dest" "$AWSCLI_VERSION" "$REHEARSAL_DEBIAN_SUITE" >"$LOG_DIR/rehearsal-rootfs.log" 2>&1 \
      || { tail -n 20 "$LOG_DIR/rehearsal-rootfs.log" >&2; die "rootfs build failed (log: $LOG_DIR/rehearsal-rootfs.log)"; }
    note rootfs built "$(elapsed "$t")" "$dest ($(du -sh "$dest" | cut -f1))"
  fi
  printf '%s\n' "$dest" >"$store/current"
  # Older builds are replaced, not kept.
  find "$store" -mindepth 1 -maxdepth 1 -type d ! -path "$dest" ! -name '*.tmp' -exec rm -rf {} +
}

setup_apt
setup_rootfs
setup_engine
setup_checkov
setup_moto
setup_awscli
setup_ruff
setup_actionlint
setup_vegeta
setup_provider

# Re-read the environment: TF_BIN may have changed (a tofu build).
# shellcheck source=tools-env.sh
. "$ROOT/scripts/tools-env.sh"

echo "setup-tools: cache $PLATFORM_TOOLS_DIR"
printf '  %s\n' "${SUMMARY[@]}"
echo "setup-tools: engine TF_BIN=$TF_BIN, CLI config ${TF_CLI_CONFIG_FILE:-<public registry>}; done in $(elapsed "$T_ALL")s"
