#!/usr/bin/env bash
# Eight processes pulling the same model into one store at the same moment, against nginx on 127.0.0.1.
#
# Usage: Scripts/reliability/eight-pulls.sh [trials=20]
#   SIZE_MIB=256   model size (4 random files: 1/2, 1/4, 1/8, 1/8 of it)
#   RATE=8m        nginx limit_rate per connection for blobs (so that the eight pulls overlap)
#   PROCESSES=8
#
# Each trial uses a fresh store. Checks: every process exits 0; one copy of each blob in blobs/table-sha256 (no
# other file); every blob holds a source file's bytes; the installed bytes equal the source; `haul verify` passes.
# Figure per trial: the body bytes nginx sent for blobs divided by the model's size (1.00 = fetched exactly once).
source "$(dirname "$0")/common.sh"

TRIALS="${1:-20}"
SIZE_MIB="${SIZE_MIB:-256}"
RATE="${RATE:-8m}"
PROCESSES="${PROCESSES:-8}"
HAUL_BIN="$(find_haul)"
make_work eight-pulls
echo "eight pulls: $TRIALS trials, $PROCESSES processes, ${SIZE_MIB} MiB model, limit_rate $RATE per connection;" \
    "haul: $HAUL_BIN"
publish_model "$WORK/src" "$WORK/repo" m "$SIZE_MIB" 4
start_nginx "$WORK/repo" "$RATE"
export HASH_CACHE="$WORK/hash-cache.json"
model_bytes=$((SIZE_MIB << 20))
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ratios=()
for trial in $(seq 1 "$TRIALS"); do
    STORE="$WORK/store-$trial"
    nginx_settle
    lines="$(wc -l <"$NGINX_LOG")"
    started="$(date +%s.%N)"
    pids=()
    for p in $(seq 1 "$PROCESSES"); do
        "$HAUL_BIN" pull m --repo "$NGINX_URL" --store "$STORE" --allow-unsigned --quiet 2>"$WORK/pull-$p.err" &
        pids+=($!)
    done
    statuses=()
    for pid in "${pids[@]}"; do
        status=0
        wait "$pid" || status=$?
        statuses+=("$status")
    done
    seconds="$(python3 -c "import time; print(f'{time.time() - $started:.1f}')")"
    for p in $(seq 1 "$PROCESSES"); do
        [ "${statuses[$((p - 1))]}" = 0 ] || fail "trial $trial: process $p exited ${statuses[$((p - 1))]}: $(cat "$WORK/pull-$p.err")"
    done
    blobs="$(ls "$STORE/blobs/table-sha256" | wc -l)"
    [ "$blobs" = 4 ] || fail "trial $trial: $blobs files in blobs/table-sha256, expected 4"
    check="$(python3 "$RELIABILITY_DIR/reliability.py" check-store "$STORE" "$WORK/src" m)" ||
        fail "trial $trial: $check"
    same_tree "$WORK/src" "$STORE/models/m/1" || fail "trial $trial: the installed bytes differ from the source"
    "$HAUL_BIN" verify --store "$STORE" --quiet || fail "trial $trial: haul verify failed"
    nginx_settle
    sent="$(python3 "$RELIABILITY_DIR/reliability.py" origin-bytes "$NGINX_LOG" "$lines")"
    ratio="$(python3 -c "print(f'{$sent / $model_bytes:.3f}')")"
    ratios+=("$ratio")
    echo "trial $trial: exits ${statuses[*]}; blobs $blobs; origin blob bytes $sent = ${ratio}x the model; ${seconds} s"
    rm -rf "$STORE"
done
echo
echo "== eight pulls figures =="
python3 -c "
import statistics; r = [float(x) for x in '${ratios[*]}'.split()]
print(f'trials: {len(r)}; origin bytes / model: min {min(r):.3f}, median {statistics.median(r):.3f}, max {max(r):.3f}')"
echo "failed checks: $failures"
if [ "$failures" -ne 0 ]; then echo "RESULT: FAIL"; exit 1; fi
echo "RESULT: PASS"
