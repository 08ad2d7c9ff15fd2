# shellcheck shell=bash
# Environment for the tools that prove the synthesized output (engine, AWS provider mirror, checkov,
# actionlint, the moto emulator, ruff). Source it; it only sets variables. scripts/setup-tools.sh installs what it points at.
#
# Knobs (environment):
#   PLATFORM_TOOLS_DIR     cache directory outside the repository (default ~/.cache/webapp-platform-tools)
#   PLATFORM_ENGINE        auto (default) | terraform | tofu
#   PLATFORM_USE_REGISTRY  auto (default): the public registry when a quick probe reaches it and no build is
#                          cached, else the local build; 1 = always the registry; 0 = always build

# Pinned versions. AWS_PROVIDER_VERSION must match what @cdktf/provider-aws pins.
export AWS_PROVIDER_VERSION="6.25.0"
# The Go module version the provider is built from (see docs/tools-and-benchmarks.md: "Which provider source is built").
export AWS_PROVIDER_GO_MODULE="github.com/hashicorp/terraform-provider-aws"
export AWS_PROVIDER_GO_VERSION="v1.60.1-0.20260602190131-5f2286d6d836"
export TERRAFORM_MIN_VERSION="1.11.0"
export OPENTOFU_GO_VERSION="v1.10.10"
export CHECKOV_VERSION="3.3.30"
export ACTIONLINT_GO_VERSION="v1.7.12"
# The fleet rehearsal's load generator (constant rate, keep-alive, every result recorded).
export VEGETA_GO_VERSION="v12.13.0"
# The AWS API emulator the deploy rehearsal applies the stacks to, and the clients its checks use.
export MOTO_VERSION="5.2.5"
export MOTO_BOTO3_VERSION="1.44.8"
export MOTO_PYTEST_VERSION="9.2.0"
# The boot rehearsal: the AWS CLI its instances run (PyPI), and the Debian release of its clean rootfs. The
# timed jobs' rehearsal runs the same AWS CLI on this machine, from its own venv.
export AWSCLI_VERSION="1.46.2"
export REHEARSAL_DEBIAN_SUITE="bookworm"
# The Python linter (npm run lint).
export RUFF_VERSION="0.17.5"

export PLATFORM_TOOLS_DIR="${PLATFORM_TOOLS_DIR:-$HOME/.cache/webapp-platform-tools}"
export PLATFORM_ENGINE="${PLATFORM_ENGINE:-auto}"
export PLATFORM_USE_REGISTRY="${PLATFORM_USE_REGISTRY:-auto}"
# Where setup-tools.sh decided the provider comes from in auto mode: "registry" or "mirror".
PLATFORM_PROVIDER_SOURCE_FILE="$PLATFORM_TOOLS_DIR/provider-source"

PLATFORM_TOOLS_BIN="$PLATFORM_TOOLS_DIR/bin"
PLATFORM_PROVIDER_MIRROR="$PLATFORM_TOOLS_DIR/provider-mirror"
CHECKOV_VENV="$PLATFORM_TOOLS_DIR/checkov-$CHECKOV_VERSION"
export PLATFORM_TOOLS_BIN PLATFORM_PROVIDER_MIRROR CHECKOV_VENV
export CHECKOV_BIN="$CHECKOV_VENV/bin/checkov"
# moto[server] + boto3 + pytest in their own venv (not on PATH); run its python directly.
export MOTO_VENV="$PLATFORM_TOOLS_DIR/moto-$MOTO_VERSION"
export MOTO_PYTHON="$MOTO_VENV/bin/python"
export AWSCLI_VENV="$PLATFORM_TOOLS_DIR/awscli-$AWSCLI_VERSION"
export AWSCLI_BIN="$AWSCLI_VENV/bin/aws"
export RUFF_VENV="$PLATFORM_TOOLS_DIR/ruff-$RUFF_VERSION"
export RUFF_BIN="$RUFF_VENV/bin/ruff"

# Go: module and build caches live in the tools cache too, so "cold" means an empty PLATFORM_TOOLS_DIR.
export GOMODCACHE="${PLATFORM_GOMODCACHE:-$PLATFORM_TOOLS_DIR/go/mod}"
export GOCACHE="${PLATFORM_GOCACHE:-$PLATFORM_TOOLS_DIR/go/build-cache}"

# The cache bin holds actionlint, tofu (when built) and a checkov link; the checkov venv's own bin is
# not put on PATH so its python does not shadow the system one.
case ":$PATH:" in
  *":$PLATFORM_TOOLS_BIN:"*) ;;
  *) export PATH="$PLATFORM_TOOLS_BIN:$PATH" ;;
esac
if [ -d /usr/local/go/bin ]; then
  case ":$PATH:" in
    *":/usr/local/go/bin:"*) ;;
    *) export PATH="$PATH:/usr/local/go/bin" ;;
  esac
fi

export CHECKPOINT_DISABLE=1
export TF_IN_AUTOMATION=1
export TF_INPUT=0
# Providers come from the mirror only; a personal plugin cache must not mix other builds in.
unset TF_PLUGIN_CACHE_DIR

# platform_provider_source: "registry" or "mirror", from PLATFORM_USE_REGISTRY and, in auto mode, from
# what setup-tools.sh decided (mirror until it has run).
platform_provider_source() {
  case "$PLATFORM_USE_REGISTRY" in
    1) echo registry ;;
    0) echo mirror ;;
    *) if [ "$(cat "$PLATFORM_PROVIDER_SOURCE_FILE" 2>/dev/null)" = registry ]; then echo registry; else echo mirror; fi ;;
  esac
}

# platform_registry_probe HOST PLATFORM: whether HOST serves the pinned provider for PLATFORM and its download
# host answers, each within 4 s. Prints the reason either way (one line).
platform_registry_probe() {
  local host=$1 platform=$2 body download dhost
  if ! command -v curl >/dev/null 2>&1; then
    echo "no curl to probe $host"
    return 1
  fi
  if ! body="$(curl -fsS --max-time 4 "https://$host/v1/providers/hashicorp/aws/$AWS_PROVIDER_VERSION/download/$platform" 2>&1)"; then
    echo "$host did not answer within 4 s (${body#curl: })"
    return 1
  fi
  download="$(printf '%s' "$body" | sed -n 's/.*"download_url" *: *"\([^"]*\)".*/\1/p')"
  dhost="${download#https://}"
  dhost="${dhost%%/*}"
  if [ -z "$download" ]; then
    echo "$host answered without a download URL for hashicorp/aws $AWS_PROVIDER_VERSION $platform"
    return 1
  fi
  if ! curl -fsS --max-time 4 -I -o /dev/null "$download" 2>/dev/null; then
    echo "$host answered, but its download host $dhost did not within 4 s"
    return 1
  fi
  echo "$host and $dhost answered"
}

# With the registry as the provider's source the user's own CLI configuration (if any) stays in effect.
if [ "$(platform_provider_source)" = mirror ]; then
  export TF_CLI_CONFIG_FILE="$PLATFORM_TOOLS_DIR/engine.tfrc"
elif [ "${TF_CLI_CONFIG_FILE:-}" = "$PLATFORM_TOOLS_DIR/engine.tfrc" ]; then
  unset TF_CLI_CONFIG_FILE
fi

# platform_version_ge A B: true when version A >= version B (dotted numbers).
platform_version_ge() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]
}

# platform_terraform_ok: a terraform >= TERRAFORM_MIN_VERSION is on PATH.
platform_terraform_ok() {
  local v
  command -v terraform >/dev/null 2>&1 || return 1
  v="$(terraform version 2>/dev/null | sed -n '1s/^Terraform v\([0-9][0-9.]*\).*/\1/p')"
  [ -n "$v" ] && platform_version_ge "$v" "$TERRAFORM_MIN_VERSION"
}

# TF_BIN: the engine the scripts run (terraform or tofu), or empty when none is installed yet.
TF_BIN=""
case "$PLATFORM_ENGINE" in
  terraform) TF_BIN="terraform" ;;
  tofu) TF_BIN="tofu" ;;
  *)
    if platform_terraform_ok; then
      TF_BIN="terraform"
    elif [ -x "$PLATFORM_TOOLS_BIN/tofu" ]; then
      TF_BIN="tofu"
    fi
    ;;
esac
export TF_BIN
