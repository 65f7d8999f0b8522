#!/usr/bin/env bash
# Installs the OCI Distribution Spec conformance program as "$1/oci-conformance" (a bin directory).
# Idempotent: does nothing when the stamp next to it names the same version.
#
# The module github.com/opencontainers/distribution-spec/conformance is a main package (main.go;
# its legacy_test.go only runs the same main under `go test`), so `go install` builds it, unchanged.
# That version prints its results, then panics while writing results.yaml (before junit.xml), so
# callers read the printed result tree (test/serve/conformance.test.ts does).
set -euo pipefail

MODULE="github.com/opencontainers/distribution-spec/conformance"
VERSION="v0.0.0-20260831232431-97274622c111"
BIN_DIR="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/ipcr-tools/bin}"
STAMP="$BIN_DIR/.oci-conformance.version"

log() { echo "install-conformance: $*"; }

if [ -x "$BIN_DIR/oci-conformance" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$VERSION" ]; then exit 0; fi
mkdir -p "$BIN_DIR"
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
log "go install $MODULE@$VERSION"
(cd /tmp && GOBIN="$build" GOFLAGS=-mod=mod go install "$MODULE@$VERSION")
mv "$build/conformance" "$BIN_DIR/oci-conformance"
echo "$VERSION" > "$STAMP"
log "installed $BIN_DIR/oci-conformance"
