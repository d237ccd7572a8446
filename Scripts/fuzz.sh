#!/usr/bin/env bash
# Fuzzes the index and manifest parsers and every parser of network and command-line values (path, model reference,
# Range, Content-Range, Retry-After, Content-Length, ETag, rate, counts, durations, origin URLs and redirect targets,
# the untrusted-text escaper) with libFuzzer, checking their invariants (bounded results, ports in 1-65535, no raw
# control characters after escaping).
# Usage: Scripts/fuzz.sh [seconds=600] [runs=-1]    Findings go to Fuzz/findings/; the corpus grows in Fuzz/corpus/
# from Fuzz/seeds/ (a published index and manifest, a path, ranges, header and CLI values, hostile text).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN=${1:-600}
RUNS=${2:--1}
export HAUL_FUZZ=1
swift build -c release --product haul-fuzz --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library >/dev/null
BIN=$(swift build -c release --product haul-fuzz --scratch-path .build-fuzz --show-bin-path)/haul-fuzz
mkdir -p Fuzz/corpus Fuzz/findings
cp -n Fuzz/seeds/* Fuzz/corpus/ 2>/dev/null || true
"$BIN" Fuzz/corpus -max_total_time="$SECONDS_TO_RUN" -runs="$RUNS" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=Fuzz/findings/ -print_final_stats=1 2>&1 | tee Fuzz/last-run.log | grep -E "^#|stat::|ERROR|crash" | tail -25
