#!/usr/bin/env bash
# Installs IPFS Cluster v1.1.6 (`ipfs-cluster-service` and `ipfs-cluster-ctl`) into $1 (a bin directory).
# Idempotent: does nothing if both binaries there already report 1.1.6.
#
# First `go install …@v1.1.6` (ipfs-cluster's go.mod has no replace directives, so this works
# wherever the Go module proxy serves the module). Some proxies refuse this module (403 "not
# available") while serving all of its dependencies: then build the vendored, unchanged source
# tarball (`git archive v1.1.6`, see ../shared/vendor/README.md) with the same Go module cache.
# The first build takes 5 to 10 minutes on 2 cores; the Go build cache makes later builds fast.
set -euo pipefail

CLUSTER_VERSION="v1.1.6"
MODULE="github.com/ipfs-cluster/ipfs-cluster"
COMMANDS=(ipfs-cluster-service ipfs-cluster-ctl)

REPO_DIR="$(cd "$(dirname "$0")/.." && pwd)"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/ipcr-tools"
BIN_DIR="${1:-$CACHE_ROOT/bin}"
BUILD_DIR="$CACHE_ROOT/cluster-build"
VENDOR_DIR="${IPCR_VENDOR_DIR:-$REPO_DIR/../shared/vendor}"
TARBALL="$VENDOR_DIR/ipfs-cluster-${CLUSTER_VERSION}.tar.gz"

log() { echo "install-cluster: $*"; }
die() { echo "install-cluster: ERROR: $*" >&2; exit 1; }

mkdir -p "$BIN_DIR" || die "cannot create bin directory $BIN_DIR"
BIN_DIR="$(cd "$BIN_DIR" && pwd)"

installed_version() { # prints "<name> version X" of $1, or nothing
  [ -x "$1" ] || return 0
  if command -v timeout >/dev/null 2>&1; then
    timeout 30 "$1" --version 2>/dev/null || true
  else
    "$1" --version 2>/dev/null || true
  fi
}

all_installed() { # $1: directory
  local cmd
  for cmd in "${COMMANDS[@]}"; do
    [ "$(installed_version "$1/$cmd")" = "$cmd version ${CLUSTER_VERSION#v}" ] || return 1
  done
}

if all_installed "$BIN_DIR"; then
  log "${COMMANDS[*]} in $BIN_DIR are already ${CLUSTER_VERSION#v}; nothing to do"
  exit 0
fi

# Go toolchain: prefer /usr/local/go/bin, else whatever `go` is on PATH.
if [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null 2>&1 || die "Go toolchain not found (expected /usr/local/go/bin/go or go on PATH)"
log "using $(go version)"

mkdir -p "$BUILD_DIR" || die "cannot create build directory $BUILD_DIR"
# Serialize concurrent runs (they share $BUILD_DIR).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$BUILD_DIR/.lock"
  flock 9 || die "cannot lock $BUILD_DIR/.lock"
fi
# Another run may have finished while this one waited for the lock.
if all_installed "$BIN_DIR"; then
  log "${COMMANDS[*]} in $BIN_DIR are already ${CLUSTER_VERSION#v}; nothing to do"
  exit 0
fi

# Binaries are built into a fresh directory and moved into $BIN_DIR only once both check out.
OUT="$(mktemp -d "$BUILD_DIR/out.XXXXXX")"
SRC=""
trap 'rm -rf "$OUT" ${SRC:+"$SRC"}' EXIT
start=$(date +%s)

packages=()
for cmd in "${COMMANDS[@]}"; do packages+=("$MODULE/cmd/$cmd@$CLUSTER_VERSION"); done
log "go install ${packages[*]}"
if (cd "$BUILD_DIR" && GOBIN="$OUT" GOFLAGS=-trimpath go install "${packages[@]}") >"$BUILD_DIR/install.log" 2>&1; then
  log "built with go install"
else
  log "go install failed: $(grep -m1 -v '^go: downloading' "$BUILD_DIR/install.log" || true)"
  [ -f "$TARBALL" ] || die "go install failed (log: $BUILD_DIR/install.log) and there is no source tarball at $TARBALL (set IPCR_VENDOR_DIR)"
  log "building the vendored source $TARBALL (first build takes several minutes)"
  SRC="$(mktemp -d "$BUILD_DIR/src.XXXXXX")"
  tar -xzf "$TARBALL" -C "$SRC" || die "cannot extract $TARBALL"
  dir="$SRC/ipfs-cluster-${CLUSTER_VERSION#v}"
  [ -f "$dir/go.mod" ] || die "$TARBALL does not hold ipfs-cluster-${CLUSTER_VERSION#v}/go.mod"
  targets=()
  for cmd in "${COMMANDS[@]}"; do targets+=("./cmd/$cmd"); done
  (cd "$dir" && go build -mod=readonly -trimpath -o "$OUT/" "${targets[@]}") >"$BUILD_DIR/build.log" 2>&1 \
    || { tail -n 30 "$BUILD_DIR/build.log" >&2; die "go build failed (full log: $BUILD_DIR/build.log)"; }
fi

for cmd in "${COMMANDS[@]}"; do
  got="$(installed_version "$OUT/$cmd")"
  [ "$got" = "$cmd version ${CLUSTER_VERSION#v}" ] || die "built $cmd reports '$got', expected '$cmd version ${CLUSTER_VERSION#v}'"
done
for cmd in "${COMMANDS[@]}"; do
  mv -f "$OUT/$cmd" "$BIN_DIR/$cmd" || die "cannot install $BIN_DIR/$cmd"
done
log "installed ${COMMANDS[*]} ${CLUSTER_VERSION#v} in $BIN_DIR (built in $(( $(date +%s) - start ))s)"
