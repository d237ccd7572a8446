#!/usr/bin/env bash
# The full server-side fault matrix: every fault kind × 10 offsets × {1, 8} connections (the table of kinds is
# Tests/HaulTests/FaultMatrixTests.swift). Prints outcome counts per kind (exact, clear error, unclear, WRONG), the
# seconds spent and the first error's message; exits non-zero if any run ended with wrong bytes visible, an unclear
# failure, or not as its kind requires.
#
# Usage: Scripts/reliability/fault-matrix.sh          (builds the tests first unless SKIP_BUILD=1)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${SKIP_BUILD:-0}" != 1 ]; then swift build --build-tests; fi
log="$(mktemp "${TMPDIR:-/tmp}/haul-fault-matrix.XXXXXX")"
status=0
HAUL_FAULT_MATRIX=full swift test --skip-build --filter FaultMatrixTests >"$log" 2>&1 || status=$?
sed -n '/^fault matrix/,/^total:/p' "$log"
grep -E "recorded an issue|^✘|^✔ Test run" "$log" || true
echo "full log: $log"
exit "$status"
