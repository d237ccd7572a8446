#!/usr/bin/env bash
# A model of many small files pulled under a low descriptor limit, against nginx on 127.0.0.1, side by side with
# curl fetching the same blobs; and a large file under that limit against the default limit (same speed expected).
#
# Usage: Scripts/reliability/many-files.sh [files=10000] [runs=3]
#   LIMIT=256        ulimit -n for the limited pulls
#   LARGE_MIB=512    the large single-file model
#
# Alternating runs (A B A B …), each command's cleanup (removing its store or output folder) inside its timing.
# Checks: every limited pull exits 0 and installs exactly the source bytes. Prints every pair and the medians.
source "$(dirname "$0")/common.sh"

FILES="${1:-10000}"
RUNS="${2:-3}"
LIMIT="${LIMIT:-256}"
LARGE_MIB="${LARGE_MIB:-512}"
HAUL_BIN="$(find_haul)"
make_work many-files
echo "many files: $FILES files, $RUNS alternating runs, ulimit -n $LIMIT; haul: $HAUL_BIN"

mkdir -p "$WORK/many"
python3 - "$WORK/many" "$FILES" <<'PY'
import os, random, sys
folder, count = sys.argv[1], int(sys.argv[2])
random.seed(1)
for i in range(count):
    sub = os.path.join(folder, f"part-{i // 1000:02d}")
    os.makedirs(sub, exist_ok=True)
    with open(os.path.join(sub, f"shard-{i:05d}.bin"), "wb") as f:
        f.write(os.urandom(random.randint(1024, 32 * 1024)))
PY
"$HAUL_BIN" publish "$WORK/many" --repo "$WORK/repo" many@1 --quiet
start_nginx "$WORK/repo" 0
many_bytes="$(du -sb --apparent-size "$WORK/many" | cut -f1)"

# curl's list: every blob of the many-file model (the only model published so far) (the same requests a pull makes, unverified).
python3 - "$WORK/repo" "$NGINX_URL" "$WORK/curl.conf" <<'PY'
import json, os, sys
repo, url, out = sys.argv[1], sys.argv[2], sys.argv[3]
lines = []
for name in os.listdir(os.path.join(repo, "blobs/sha256")):
    lines.append(f'url = "{url}blobs/sha256/{name}"\noutput = "OUT/{name}"\n')
open(out, "w").write("".join(lines))
PY
blob_count="$(grep -c '^url' "$WORK/curl.conf")"
publish_model "$WORK/large-src" "$WORK/repo" large "$LARGE_MIB" 1
echo "model: $FILES files, $many_bytes bytes, $blob_count distinct blobs; large model ${LARGE_MIB} MiB"

seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
run_haul_many() {
    local start end
    start="$(date +%s.%N)"
    if ! bash -c "ulimit -n $LIMIT && exec '$HAUL_BIN' pull many --repo '$NGINX_URL' --store '$WORK/store' --allow-unsigned --quiet" \
        >/dev/null 2>"$WORK/pull.err"; then
        echo "FAIL: the limited pull exited non-zero: $(tail -3 "$WORK/pull.err")" >&2; echo x >>"$WORK/failures"
    elif ! same_tree "$WORK/many" "$WORK/store/models/many/1"; then
        echo "FAIL: installed bytes differ" >&2; echo x >>"$WORK/failures"
    fi
    rm -rf "$WORK/store"
    end="$(date +%s.%N)"
    seconds "$start" "$end"
}
run_curl_many() {
    local start end
    start="$(date +%s.%N)"
    mkdir -p "$WORK/out"
    sed "s#OUT/#$WORK/out/#" "$WORK/curl.conf" | curl -s --no-progress-meter --parallel --parallel-max 8 -K - || echo "curl failed" >&2
    rm -rf "$WORK/out"
    end="$(date +%s.%N)"
    seconds "$start" "$end"
}
run_haul_large() {
    local limit="$1" start end
    start="$(date +%s.%N)"
    bash -c "ulimit -n $limit && exec '$HAUL_BIN' pull large --repo '$NGINX_URL' --store '$WORK/store' --allow-unsigned --quiet" \
        >/dev/null 2>"$WORK/large.err" || { echo "FAIL: large pull (ulimit -n $limit)" >&2; echo x >>"$WORK/failures"; }
    rm -rf "$WORK/store"
    end="$(date +%s.%N)"
    seconds "$start" "$end"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

haul_times=(); curl_times=(); limited=(); unlimited=()
echo "run  haul pull many (ulimit -n $LIMIT)  curl --parallel 8 (same blobs)  large, ulimit -n $LIMIT  large, default limit"
for run in $(seq 1 "$RUNS"); do
    h="$(run_haul_many)"; c="$(run_curl_many)"; l="$(run_haul_large "$LIMIT")"; u="$(run_haul_large "$(ulimit -n)")"
    haul_times+=("$h"); curl_times+=("$c"); limited+=("$l"); unlimited+=("$u")
    printf '%3d  %28s s  %28s s  %19s s  %18s s\n' "$run" "$h" "$c" "$l" "$u"
done
printf 'median %26s s  %28s s  %19s s  %18s s\n' "$(median "${haul_times[@]}")" "$(median "${curl_times[@]}")" \
    "$(median "${limited[@]}")" "$(median "${unlimited[@]}")"
failures=0
if [ -f "$WORK/failures" ]; then failures="$(wc -l <"$WORK/failures")"; fi
echo "failed checks: $failures"
if [ "$failures" -eq 0 ]; then echo "RESULT: PASS"; else echo "RESULT: FAIL"; exit 1; fi
