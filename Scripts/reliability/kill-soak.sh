#!/usr/bin/env bash
# Kill soak: SIGKILL `haul pull` at random moments, check that nothing wrong is ever visible, and measure the bytes
# the origin sends again because of each kill.
#
# Usage: Scripts/reliability/kill-soak.sh [kills=1000]
#   SIZE_MIB=256      model size (4 random files: 1/2, 1/4, 1/8, 1/8 of it)
#   RATE=2m           nginx limit_rate per connection for blobs
#   CONNECTIONS=4     haul pull --connections
#   MAX_DELAY_MS=3000 each pull is killed after a uniform random 0…MAX_DELAY_MS ms (from its start)
#
# After every kill: the process was still running (else it completed: see below), every file under
# blobs/table-sha256 holds exactly the bytes of one source file, and models/m/1 is absent or complete and exact.
# When a pull completes before its kill, `haul verify` must pass and the model is removed (`haul rm`), starting a new
# generation. At the end one pull resumes to completion; its installed bytes must equal the source and `haul verify`
# must pass. Figures: bytes fetched again per kill (bytes the origin sent during a killed run that it sent again
# in a later run), median / p90 / max, against one chunk per connection.
source "$(dirname "$0")/common.sh"

KILLS="${1:-1000}"
SIZE_MIB="${SIZE_MIB:-256}"
RATE="${RATE:-2m}"
CONNECTIONS="${CONNECTIONS:-4}"
MAX_DELAY_MS="${MAX_DELAY_MS:-3000}"
HAUL_BIN="$(find_haul)"
make_work kill-soak
echo "kill soak: $KILLS kills, ${SIZE_MIB} MiB model, limit_rate $RATE per connection, $CONNECTIONS connections," \
    "kill after 0…${MAX_DELAY_MS} ms; haul: $HAUL_BIN"

publish_model "$WORK/src" "$WORK/repo" m "$SIZE_MIB" 4
start_nginx "$WORK/repo" "$RATE"
MAX_CHUNK="$(python3 "$RELIABILITY_DIR/reliability.py" max-chunk "$WORK/repo")"
STORE="$WORK/store"
PULL=("$HAUL_BIN" pull m --repo "$NGINX_URL" --store "$STORE" --quiet --allow-unsigned --connections "$CONNECTIONS")
export HASH_CACHE="$WORK/hash-cache.json"
RUNS="$WORK/runs.txt"
: >"$RUNS"

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
    if [ "$failures" -ge 10 ]; then echo "RESULT: FAIL (stopped after 10 failures)"; exit 1; fi
}
check_store() {
    local out
    if ! out="$(python3 "$RELIABILITY_DIR/reliability.py" check-store "$STORE" "$WORK/src" m)"; then
        fail "after run $1: $out"
    fi
    LAST_CHECK="$out"
}

now() { date +%s.%N; }
kills=0 run=0 generation=0 completions=0
started_at="$(date +%s)"
while [ "$kills" -lt "$KILLS" ]; do
    run=$((run + 1))
    delay_ms=$((RANDOM * 32768 + RANDOM))
    delay_ms=$((delay_ms % (MAX_DELAY_MS + 1)))
    start="$(now)"
    "${PULL[@]}" >"$WORK/pull.out" 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
    if kill -KILL "$pid" 2>/dev/null; then
        status=0
        wait "$pid" 2>/dev/null || status=$?
        end="$(now)"
        if [ "$status" -eq 137 ]; then
            kills=$((kills + 1))
            echo "$run $generation $start $end killed" >>"$RUNS"
            check_store "$run"
            if [ $((kills % 50)) -eq 0 ]; then
                echo "  $kills kills, $completions completed pulls, $(( $(date +%s) - started_at )) s; $LAST_CHECK"
            fi
            continue
        fi
    else
        status=0
        wait "$pid" 2>/dev/null || status=$?
        end="$(now)"
    fi
    # The pull ended on its own before the kill.
    echo "$run $generation $start $end completed" >>"$RUNS"
    if [ "$status" -ne 0 ]; then
        fail "run $run exited $status: $(cat "$WORK/pull.out")"
        continue
    fi
    completions=$((completions + 1))
    check_store "$run"
    same_tree "$WORK/src" "$STORE/models/m/1" || fail "run $run installed bytes that differ from the source"
    "$HAUL_BIN" verify --store "$STORE" --quiet || fail "haul verify failed after run $run"
    "$HAUL_BIN" rm m --store "$STORE" --quiet || fail "haul rm failed after run $run"
    generation=$((generation + 1))
done

echo "final pull (resume to completion)"
run=$((run + 1))
start="$(now)"
final_status=0
"${PULL[@]}" >"$WORK/pull.out" 2>&1 || final_status=$?
end="$(now)"
echo "$run $generation $start $end final" >>"$RUNS"
[ "$final_status" -eq 0 ] || fail "the final pull exited $final_status: $(cat "$WORK/pull.out")"
check_store "$run"
same_tree "$WORK/src" "$STORE/models/m/1" || fail "the final pull installed bytes that differ from the source"
verify_status=0
"$HAUL_BIN" verify --store "$STORE" >"$WORK/verify.out" 2>&1 || verify_status=$?
[ "$verify_status" -eq 0 ] || fail "haul verify exited $verify_status: $(cat "$WORK/verify.out")"
nginx_settle

echo
echo "== kill soak figures =="
echo "kills: $kills; pulls that completed before their kill: $completions; final pull: exit $final_status;" \
    "haul verify: exit $verify_status; store checks failed: $failures"
echo "largest chunk of the model: $(python3 -c "print(f'{$MAX_CHUNK / 1048576:.2f}')") MiB;" \
    "one chunk per connection: $CONNECTIONS x 4 MiB = $((CONNECTIONS * 4)) MiB"
python3 "$RELIABILITY_DIR/reliability.py" refetch "$NGINX_LOG" "$RUNS" "$WORK/per-run.csv"
over="$(awk -F, -v bound=$((CONNECTIONS * 4 << 20)) 'NR > 1 && $3 == "killed" && $6 > bound' "$WORK/per-run.csv" | wc -l)"
echo "kills that fetched again more than one 4 MiB chunk per connection: $over"
echo "elapsed: $(( $(date +%s) - started_at )) s"
if [ "${KEEP:-0}" = 1 ]; then echo "per-run figures: $WORK/per-run.csv"; fi
if [ "$failures" -ne 0 ] || [ "$over" -ne 0 ]; then
    echo "RESULT: FAIL"
    exit 1
fi
echo "RESULT: PASS"
