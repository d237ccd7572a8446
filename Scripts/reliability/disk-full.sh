#!/usr/bin/env bash
# Disk full and write errors: `haul pull` with its store on a small tmpfs in a private mount namespace
# (`unshare -m --propagation private`, needs root), and under `ulimit -f` (EFBIG).
#
# Usage: Scripts/reliability/disk-full.sh
#   (a) preflight: a 96 MiB model into a 64 MiB tmpfs fails at once (exit 6, "Not enough disk space", no blob byte
#       fetched), nothing installed;
#   (b) space disappears mid-pull: a filler file takes the rest of the tmpfs while a throttled pull of a 48 MiB model
#       (6 files) runs; the pull fails with exit 6 and a clear message, the store stays consistent; once the filler
#       is removed the next pull resumes, fetching only what is missing, and installs the exact bytes;
#   (c) a write error: the same pull under `ulimit -f` (file size limit, EFBIG; SIGXFSZ ignored as a shell would
#       for a background job) fails clearly and resumes; also reported: what happens when SIGXFSZ is not ignored.
source "$(dirname "$0")/common.sh"

if [ "${1:-}" = "--inside" ]; then
    # Runs inside the private mount namespace: the tmpfs is visible only here and vanishes with this process.
    scenario="$2"
    T="$WORK/tmpfs-$scenario"
    mkdir -p "$T"
    mount -t tmpfs -o size=64m tmpfs "$T"
    PULL=("$(find_haul)" --repo "$NGINX_URL" --store "$T/store" --allow-unsigned --quiet)
    case "$scenario" in
    preflight)
        status=0
        "$(find_haul)" pull big "${PULL[@]:1}" 2>"$WORK/a.err" || status=$?
        echo "status=$status"
        echo "installed=$(ls "$T/store/models" 2>/dev/null | wc -l) blobs=$(ls "$T/store/blobs/table-sha256" | wc -l)"
        ;;
    midpull)
        "$(find_haul)" pull m "${PULL[@]:1}" --connections 2 2>"$WORK/b1.err" &
        pid=$!
        for _ in $(seq 1 600); do
            [ -n "$(ls "$T/store/blobs/table-sha256" 2>/dev/null)" ] && break
            sleep 0.05
        done
        echo "blobs_before_filler=$(ls "$T/store/blobs/table-sha256" | wc -l)"
        head -c 64m /dev/zero >"$T/filler" 2>/dev/null || true
        echo "free_after_filler=$(df --output=avail -B1 "$T" | tail -1)"
        status=0
        wait "$pid" || status=$?
        echo "first_status=$status"
        python3 "$RELIABILITY_DIR/reliability.py" check-store "$T/store" "$WORK/src-m" m | sed 's/^/after_failure: /'
        echo "partial_after_failure=$(ls "$T/store/partial" | tr '\n' ' ')"
        rm "$T/filler"
        echo "second_start=$(date +%s.%N)"
        status=0
        "$(find_haul)" pull m "${PULL[@]:1}" 2>"$WORK/b2.err" || status=$?
        echo "second_status=$status"
        if same_tree "$WORK/src-m" "$T/store/models/m/1"; then echo "installed=exact"; else echo "installed=WRONG"; fi
        status=0
        "$(find_haul)" verify --store "$T/store" --quiet || status=$?
        echo "verify_status=$status"
        ;;
    esac
    exit 0
fi

HAUL_BIN="$(find_haul)"
make_work disk-full
export WORK HAUL="$HAUL_BIN"
if ! unshare -m --propagation private sh -c 'd=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "$d" && umount "$d"' \
    2>/dev/null; then
    echo "SKIP: cannot create a private mount namespace with a tmpfs here (needs root and unshare -m)"
    exit 0
fi
echo "disk full: haul: $HAUL_BIN"
publish_model "$WORK/src-big" "$WORK/repo" big 96 1
# m: six 8 MiB files (blobs are opened one after another, so space can run out between them);
# w: two 8 MiB files and a 24 MiB one (only the last exceeds a 16 MiB file size limit).
mkdir -p "$WORK/src-m" "$WORK/src-w"
for i in 1 2 3 4 5 6; do head -c $((8 << 20)) /dev/urandom >"$WORK/src-m/part-$i.bin"; done
head -c $((8 << 20)) /dev/urandom >"$WORK/src-w/a-1.bin"
head -c $((8 << 20)) /dev/urandom >"$WORK/src-w/a-2.bin"
head -c $((24 << 20)) /dev/urandom >"$WORK/src-w/z.bin"
"$HAUL_BIN" publish "$WORK/src-m" --repo "$WORK/repo" m@1 --quiet
"$HAUL_BIN" publish "$WORK/src-w" --repo "$WORK/repo" w@1 --quiet
start_nginx "$WORK/repo" 4m
export NGINX_URL
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
value() { grep "^$1=" "$2" | head -1 | cut -d= -f2-; }
model_bytes=$((48 << 20))

echo "== (a) preflight: 96 MiB model, 64 MiB tmpfs =="
unshare -m --propagation private "$0" --inside preflight >"$WORK/a.out"
cat "$WORK/a.out"
echo "message: $(cat "$WORK/a.err")"
nginx_settle
a_bytes="$(python3 "$RELIABILITY_DIR/reliability.py" origin-bytes "$NGINX_LOG")"
echo "blob bytes fetched: $a_bytes"
[ "$(value status "$WORK/a.out")" = 6 ] || fail "(a) exit status is not 6"
grep -q "Not enough disk space" "$WORK/a.err" || fail "(a) no 'Not enough disk space' message"
[ "$a_bytes" = 0 ] || fail "(a) blob bytes were fetched before failing"
grep -q "installed=0 blobs=0" "$WORK/a.out" || fail "(a) something was installed"

echo "== (b) space disappears mid-pull: 48 MiB model (6 x 8 MiB), 64 MiB tmpfs, filler =="
lines="$(wc -l <"$NGINX_LOG")"
unshare -m --propagation private "$0" --inside midpull >"$WORK/b.out"
cat "$WORK/b.out"
echo "first pull's message: $(cat "$WORK/b1.err")"
nginx_settle
second_start="$(value second_start "$WORK/b.out")"
read -r b1 b2 < <(python3 -c "
import sys; sys.path.insert(0, '$RELIABILITY_DIR'); import reliability as r
recs = r.read_log('$NGINX_LOG', $lines)
t = $second_start
print(sum(x[4] for x in recs if x[0] < t), sum(x[4] for x in recs if x[0] >= t))")
echo "origin blob bytes: first pull $b1, second pull $b2, together $((b1 + b2)) for a $model_bytes-byte model" \
    "(fetched again: $((b1 + b2 - model_bytes)))"
[ "$(value first_status "$WORK/b.out")" = 6 ] || fail "(b) the first pull did not exit 6"
grep -qi "disk is full\|not enough disk space" "$WORK/b1.err" || fail "(b) no clear disk-full message"
grep -q "after_failure: .*model=absent problems=0" "$WORK/b.out" || fail "(b) the store is not consistent"
[ "$(value second_status "$WORK/b.out")" = 0 ] || fail "(b) the second pull failed: $(cat "$WORK/b2.err")"
[ "$(value installed "$WORK/b.out")" = exact ] || fail "(b) the installed bytes differ"
[ "$(value verify_status "$WORK/b.out")" = 0 ] || fail "(b) haul verify failed"
[ "$b2" -lt "$model_bytes" ] || fail "(b) the second pull fetched everything again"

echo "== (c) a write error: ulimit -f 16384 (16 MiB per file); model w: 8 + 8 + 24 MiB =="
STORE="$WORK/store-c"
w_bytes=$((40 << 20))
limited_pull() { # $1: "ignore" to ignore SIGXFSZ as a shell does for some jobs, else its default action
    local trap=""
    [ "$1" = ignore ] && trap='trap "" XFSZ;'
    bash -c "$trap"' ulimit -f 16384; exec "$0" "$@"' "$HAUL_BIN" pull w --repo "$NGINX_URL" --store "$STORE" \
        --allow-unsigned --quiet
}
lines="$(wc -l <"$NGINX_LOG")"
status=0
limited_pull ignore 2>"$WORK/c1.err" || status=$?
echo "SIGXFSZ ignored: exit $status; message: $(cat "$WORK/c1.err")"
[ "$status" = 6 ] || fail "(c) exit status is not 6 under ulimit -f"
grep -qi "too large\|file size" "$WORK/c1.err" || fail "(c) the message does not say the file is too large"
python3 "$RELIABILITY_DIR/reliability.py" check-store "$STORE" "$WORK/src-w" w | sed 's/^/after the write error: /'
python3 "$RELIABILITY_DIR/reliability.py" check-store "$STORE" "$WORK/src-w" w >/dev/null ||
    fail "(c) the store is not consistent"
status_default=0
limited_pull default 2>"$WORK/c2.err" || status_default=$?
echo "SIGXFSZ at its default action: exit $status_default; message: $(cat "$WORK/c2.err")"
nginx_settle
c1_bytes="$(python3 "$RELIABILITY_DIR/reliability.py" origin-bytes "$NGINX_LOG" "$lines")"
lines="$(wc -l <"$NGINX_LOG")"
status=0
"$HAUL_BIN" pull w --repo "$NGINX_URL" --store "$STORE" --allow-unsigned --quiet 2>"$WORK/c3.err" || status=$?
echo "without the limit: exit $status"
[ "$status" = 0 ] || fail "(c) the pull without the limit failed: $(cat "$WORK/c3.err")"
same_tree "$WORK/src-w" "$STORE/models/w/1" || fail "(c) the installed bytes differ"
nginx_settle
c2_bytes="$(python3 "$RELIABILITY_DIR/reliability.py" origin-bytes "$NGINX_LOG" "$lines")"
echo "origin blob bytes: limited pulls $c1_bytes, resumed pull $c2_bytes, for a $w_bytes-byte model" \
    "(fetched again: $((c1_bytes + c2_bytes - w_bytes)))"
[ "$c2_bytes" -lt "$w_bytes" ] || fail "(c) the resumed pull fetched everything again"

echo
if [ "$failures" -ne 0 ]; then echo "RESULT: FAIL ($failures)"; exit 1; fi
echo "RESULT: PASS"
