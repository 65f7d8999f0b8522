#!/usr/bin/env bash
# Installs every real component the test suite needs. Idempotent; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS_BIN="${IPCR_TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/ipcr-tools/bin}"
CONFORMANCE_VERSION=v0.0.0-20260831232431-97274622c111
REGCTL_VERSION="v0.11.7"
mkdir -p "$TOOLS_BIN"

log() { echo "install-deps: $*"; }
SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

# Debian packages: podman (Docker-compatible API for the docker CLI), skopeo, umoci, dig, GNU time (bench).
apt_updated=""
apt_update() { [ -n "$apt_updated" ] || { $SUDO apt-get update -qq; apt_updated=1; }; }
need_apt=()
for pair in podman:podman skopeo:skopeo umoci:umoci dig:dnsutils jq:jq /usr/bin/time:time docker:docker.io; do
  cmd="${pair%%:*}"; pkg="${pair##*:}"
  command -v "$cmd" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ "${#need_apt[@]}" -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# DNS servers the DNS tests start on loopback (test/helpers/bind.ts, test/helpers/powerdns.ts): BIND 9's named
# (RFC 2136, resolution), the PowerDNS Authoritative Server with its sqlite3 backend, and the sqlite3 CLI
# (loads the PowerDNS schema). Checked by package, installed without recommends.
need_dns=()
for pkg in bind9 pdns-server pdns-backend-sqlite3 sqlite3; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need_dns+=("$pkg")
done
if [ "${#need_dns[@]}" -gt 0 ]; then
  log "apt-get install ${need_dns[*]}"
  apt_update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_dns[@]}" >/dev/null
fi

# The CNCF distribution registry (Debian's docker-registry, 2.8.2): the peer `ipcr serve` is compared
# with in tests and the pull benchmark. Started on loopback by whoever needs it, never as a service.
if ! dpkg-query -W -f='${Status}' docker-registry 2>/dev/null | grep -q 'install ok installed'; then
  log "apt-get install docker-registry"
  apt_update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >/dev/null
fi

# podman storage: vfs works without overlay or fuse in this sandbox.
if ! grep -qs 'driver = "vfs"' /etc/containers/storage.conf; then
  log "configuring podman storage (vfs)"
  $SUDO mkdir -p /etc/containers
  $SUDO tee /etc/containers/storage.conf >/dev/null <<'CONF'
[storage]
driver = "vfs"
runroot = "/run/containers/storage"
graphroot = "/var/lib/containers/storage"
CONF
fi

# Go tools, built from the Go module proxy and cached in $TOOLS_BIN.
go_tool() { # name module version
  local name="$1" module="$2" version="$3" stamp="$TOOLS_BIN/.$1.version"
  if [ -x "$TOOLS_BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then return; fi
  log "go install $module@$version"
  (cd /tmp && GOBIN="$TOOLS_BIN" GOFLAGS=-mod=mod go install "$module@$version")
  echo "$version" > "$stamp"
}
bash scripts/install-kubo.sh "$TOOLS_BIN"
bash scripts/install-cluster.sh "$TOOLS_BIN"
go_tool regctl github.com/regclient/regclient/cmd/regctl "$REGCTL_VERSION"
# The OCI Distribution Spec conformance program (a main package; `go install` builds it unchanged).
# This version prints its results, then panics writing results.yaml: callers read the printed tree.
go_tool conformance github.com/opencontainers/distribution-spec/conformance "$CONFORMANCE_VERSION"

# Node dependencies, exactly as locked.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund
fi
log "tools in $TOOLS_BIN: $(ls "$TOOLS_BIN" | tr '\n' ' ')"
