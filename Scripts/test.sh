#!/usr/bin/env bash
# Installs what the tests need (nginx, util-linux script), builds everything and runs every test.
# Usage: Scripts/test.sh            (from the repository root; CI's .ci/run calls exactly this)
set -euo pipefail
cd "$(dirname "$0")/.."

# The integration tests serve repositories with nginx and give `haul pull` a terminal with util-linux `script`.
missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -x /usr/bin/script ] || missing+=(bsdutils)
if [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    if command -v apt-get >/dev/null 2>&1; then
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    elif command -v brew >/dev/null 2>&1; then
        brew install nginx
    else
        echo "error: cannot install ${missing[*]} automatically; install them and re-run" >&2
        exit 1
    fi
fi

echo "==> building (debug, with tests)"
started=$SECONDS
swift build --build-tests
echo "==> build took $((SECONDS - started)) s"
# One test at a time: many tests run real servers and processes and measure what they do (rates, stealing, kills
# at moments of progress); on a 2-core machine, 170 of them at once starve each other. Serial, the whole suite takes
# about 4.5 minutes here.
echo "==> running every test (one at a time)"
started=$SECONDS
swift test --skip-build --no-parallel
echo "==> tests took $((SECONDS - started)) s"
