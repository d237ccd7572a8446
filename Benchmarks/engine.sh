#!/usr/bin/env bash
# The download engine against the tools people use today, side by side, from one run:
#   1. nginx capping each connection at 25 MB/s (as CDNs do), 256 MiB model:
#      haul pull (default connections) vs aria2c -x8 -s8 -k1M vs curl.
#   2. nginx without a cap, 1 GiB model: haul pull (verified, installed) vs curl -o (unverified), haul's peak RSS.
# Medians of RUNS alternating runs (default 5), haul in release build.
# Usage: Benchmarks/engine.sh [runs=5]
cd "$(dirname "$0")/.."
source Benchmarks/lib.sh
RUNS=${1:-5}
WORK=${HAUL_BENCH_DIR:-$PWD/Benchmarks/work}
ensure_tools
build_haul
mkdir -p "$WORK"
trap 'kill ${NGINX_PID:-0} 2>/dev/null || true' EXIT

echo "==> 1. per-connection cap: limit_rate 25m, 256 MiB"
publish_model "$WORK/capped" 256
start_nginx "$WORK/capped" "limit_rate 25m;"
URL="http://127.0.0.1:$PORT"
h=() a=() c=()
for i in $(seq "$RUNS"); do
    rm -rf "$WORK/capped/store" "$WORK/capped/out"; mkdir -p "$WORK/capped/out"
    timed t r -- "$HAUL" pull bench --repo "$URL" --store "$WORK/capped/store" --quiet; h+=("$t")
    timed t r -- aria2c -q -x8 -s8 -k1M --file-allocation=none --allow-overwrite=true -d "$WORK/capped/out" -o a.bin "$URL/blobs/sha256/$BLOB"; a+=("$t")
    timed t r -- curl -s -o "$WORK/capped/out/c.bin" "$URL/blobs/sha256/$BLOB"; c+=("$t")
    printf '  run %d: haul %6.2f s   aria2c %6.2f s   curl %6.2f s\n' "$i" "${h[-1]}" "${a[-1]}" "${c[-1]}"
done
kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true
H1=$(printf '%s\n' "${h[@]}" | median); A1=$(printf '%s\n' "${a[@]}" | median); C1=$(printf '%s\n' "${c[@]}" | median)
rm -rf "$WORK/capped"

echo "==> 2. no cap, 1 GiB"
uncapped "$WORK/open" 1024 "$RUNS"
H2=$H_MEDIAN; C2=$C_MEDIAN; R2=$RSS_MAX

echo "=================================================================================="
printf '%-46s %10s %10s %10s\n' "median wall time of $RUNS runs" "haul" "aria2c" "curl"
printf '%-46s %9.2fs %9.2fs %9.2fs\n' "1. limit_rate 25m per connection, 256 MiB" "$H1" "$A1" "$C1"
printf '%-46s %9.2fs %10s %9.2fs\n' "2. no cap, 1 GiB (haul verifies + installs)" "$H2" "-" "$C2"
printf '%-46s %10.2f   (bar: <= 0.90)\n' "haul / aria2c, capped" "$(echo "$H1/$A1" | bc -l)"
printf '%-46s %10.2f   (bar: <= 0.80)\n' "haul / curl, no cap" "$(echo "$H2/$C2" | bc -l)"
printf '%-46s %8.1f MiB (bar: <= 48)\n' "haul peak RSS, no cap" "$(echo "$R2/1024" | bc -l)"
