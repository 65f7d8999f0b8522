#!/usr/bin/env bash
# The whole test suite on a fresh clone: installs every real component, checks
# that dist/ matches the sources, then runs jest (which starts podman's Docker API).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export PATH="${IPCR_TOOLS_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/ipcr-tools/bin}:$PATH"

echo "== typecheck"
npx tsc --noEmit
echo "== check dist"
bash scripts/check-dist.sh
echo "== jest"
report="$(mktemp)"
status=0
NODE_OPTIONS=--experimental-vm-modules npx jest --ci --json --outputFile="$report" "$@" || status=$?
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' "$report" || true
exit $status
