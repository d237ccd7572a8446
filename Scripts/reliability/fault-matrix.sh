#!/usr/bin/env bash
# The full server-side fault matrix: every fault kind × 10 offsets × {1, 8} connections (see
# Tests/HaulTests/FaultMatrixTests.swift for the table of kinds). Prints a table of outcome counts per kind; exits
# non-zero if any run ended with wrong bytes visible, an unclear failure, or not as its kind requires.
#
# Usage: Scripts/reliability/fault-matrix.sh          (builds the tests first unless SKIP_BUILD=1)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${SKIP_BUILD:-0}" != 1 ]; then swift build --build-tests; fi
HAUL_FAULT_MATRIX=full swift test --skip-build --filter FaultMatrixTests 2>&1 | tee "${TMPDIR:-/tmp}/haul-fault-matrix.log" |
    grep -v "^\[" | grep -E "fault matrix|^kind|^  |^[a-zA-Z0-9+ -]{30}[0-9]|^total|recorded an issue|passed|failed" || true
grep -q "Test run with .* passed" "${TMPDIR:-/tmp}/haul-fault-matrix.log"
