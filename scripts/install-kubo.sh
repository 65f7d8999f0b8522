#!/usr/bin/env bash
# Installs the real Kubo v0.43.1 `ipfs` binary into $1 (a bin directory).
# Idempotent: does nothing if "$1/ipfs version" already reports 0.43.1.
#
# Why not `go install github.com/ipfs/kubo/cmd/ipfs@v0.43.1`: kubo's go.mod has a
# `replace github.com/libp2p/go-libp2p => github.com/lidel/go-libp2p <pseudo-version>`,
# so `go install` refuses it, and that fork version is not on the Go module proxy anyway.
# Instead we build kubo's cmd/ipfs (unchanged) from a small wrapper module that uses
# upstream go-libp2p v0.50.0: the release that carries the fork's change (moving the
# webtransport transport to quic-go v0.62.0 / webtransport-go v0.13.0, the versions
# kubo pins). Every other module resolves to exactly the version kubo's go.mod lists.
set -euo pipefail

KUBO_VERSION="v0.43.1"
LIBP2P_VERSION="v0.50.0"   # replaces kubo's unpublished go-libp2p fork (kubo itself: v0.49.0 + replace)
# Versions the build must end up with (checked after resolution; they are kubo's own pins).
EXPECTED_MODULES=(
  "github.com/ipfs/kubo $KUBO_VERSION"
  "github.com/libp2p/go-libp2p $LIBP2P_VERSION"
  "github.com/quic-go/quic-go v0.62.0"
  "github.com/quic-go/webtransport-go v0.13.0"
  "github.com/ipfs/boxo v0.43.0"
)

CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/ipcr-tools"
BIN_DIR="${1:-$CACHE_ROOT/bin}"
BUILD_DIR="$CACHE_ROOT/kubo-build"

log() { echo "install-kubo: $*"; }
die() { echo "install-kubo: ERROR: $*" >&2; exit 1; }

mkdir -p "$BIN_DIR" || die "cannot create bin directory $BIN_DIR"
BIN_DIR="$(cd "$BIN_DIR" && pwd)"
TARGET="$BIN_DIR/ipfs"

installed_version() { # prints "ipfs version X" of $1, or nothing
  [ -x "$1" ] || return 0
  if command -v timeout >/dev/null 2>&1; then
    timeout 30 "$1" version 2>/dev/null || true
  else
    "$1" version 2>/dev/null || true
  fi
}

if [ "$(installed_version "$TARGET")" = "ipfs version ${KUBO_VERSION#v}" ]; then
  log "$TARGET is already Kubo ${KUBO_VERSION#v}; nothing to do"
  exit 0
fi

# Go toolchain: prefer /usr/local/go/bin, else whatever `go` is on PATH.
if [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; fi
command -v go >/dev/null 2>&1 || die "Go toolchain not found (expected /usr/local/go/bin/go or go on PATH)"
log "using $(go version)"

mkdir -p "$BUILD_DIR" || die "cannot create build directory $BUILD_DIR"
cd "$BUILD_DIR"

# Serialize concurrent runs (they share go.mod in $BUILD_DIR).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$BUILD_DIR/.lock"
  flock 9 || die "cannot lock $BUILD_DIR/.lock"
fi

log "writing wrapper module in $BUILD_DIR (kubo $KUBO_VERSION, go-libp2p $LIBP2P_VERSION)"
cat > go.mod <<EOF
module ipcr.local/kubo-build

go 1.26.5

require (
	github.com/ipfs/kubo $KUBO_VERSION
	github.com/libp2p/go-libp2p $LIBP2P_VERSION
)

// Same excludes as kubo's own go.mod.
exclude (
	github.com/ipfs/go-ipfs-cmds v2.0.1+incompatible
	github.com/libp2p/go-libp2p v6.0.23+incompatible
)
EOF
cat > tools.go <<'EOF'
//go:build tools

package tools

import _ "github.com/ipfs/kubo/cmd/ipfs"
EOF
rm -f go.sum

# Resolve the full module graph from the exact pins above (minimal version selection;
# no @latest, checksums verified against the Go checksum database).
log "resolving modules (go mod tidy)"
go mod tidy >"$BUILD_DIR/tidy.log" 2>&1 \
  || { tail -n 30 "$BUILD_DIR/tidy.log" >&2; die "go mod tidy failed (full log: $BUILD_DIR/tidy.log)"; }

for want in "${EXPECTED_MODULES[@]}"; do
  got="$(go list -mod=readonly -m "${want%% *}")" || die "cannot list module ${want%% *} (see go error above)"
  [ "$got" = "$want" ] || die "module resolved to '$got', expected '$want'"
done
log "resolved: $(printf '%s, ' "${EXPECTED_MODULES[@]}" | sed 's/, $//')"

TMP_BIN="$BIN_DIR/.ipfs.new.$$"
trap 'rm -f "$TMP_BIN"' EXIT
log "go build -mod=readonly -trimpath -o $TARGET github.com/ipfs/kubo/cmd/ipfs (first build takes several minutes)"
start=$(date +%s)
go build -mod=readonly -trimpath -o "$TMP_BIN" github.com/ipfs/kubo/cmd/ipfs >"$BUILD_DIR/build.log" 2>&1 \
  || { tail -n 30 "$BUILD_DIR/build.log" >&2; die "go build failed (full log: $BUILD_DIR/build.log)"; }

got="$(installed_version "$TMP_BIN")"
[ "$got" = "ipfs version ${KUBO_VERSION#v}" ] \
  || die "built binary reports '$got', expected 'ipfs version ${KUBO_VERSION#v}'"
mv -f "$TMP_BIN" "$TARGET" || die "cannot install $TARGET"
log "installed $TARGET ($got, built in $(( $(date +%s) - start ))s)"
