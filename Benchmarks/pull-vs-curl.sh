#!/usr/bin/env bash
# haul pull (download + per-chunk verify + install, release build) vs curl -o (no verification),
# from nginx on 127.0.0.1 serving a published model of random data.
# Usage: Benchmarks/pull-vs-curl.sh [size-MiB=1024] [runs=5]
# Prints each run, the medians, the ratio haul/curl and haul's peak RSS (from /usr/bin/time -v).
cd "$(dirname "$0")/.."
source Benchmarks/lib.sh
SIZE_MIB=${1:-1024}
RUNS=${2:-5}
WORK=${HAUL_BENCH_DIR:-$PWD/Benchmarks/work}
ensure_tools
build_haul
mkdir -p "$WORK"
trap 'kill ${NGINX_PID:-0} 2>/dev/null || true' EXIT

echo "==> generating and publishing a ${SIZE_MIB} MiB model"
publish_model "$WORK/pull" "$SIZE_MIB"
start_nginx "$WORK/pull" ""
URL="http://127.0.0.1:$PORT"
h=() c=() rss=()
for i in $(seq "$RUNS"); do
    rm -rf "$WORK/pull/store" "$WORK/pull/c.bin"
    timed t r -- "$HAUL" pull bench --repo "$URL" --store "$WORK/pull/store" --quiet; h+=("$t"); rss+=("$r")
    timed t r -- curl -s -o "$WORK/pull/c.bin" "$URL/blobs/sha256/$BLOB"; c+=("$t")
    printf 'run %d: haul %6.2f s (peak RSS %6.1f MiB)   curl %6.2f s\n' "$i" "${h[-1]}" "$(echo "${rss[-1]}/1024" | bc -l)" "${c[-1]}"
done
rm -rf "$WORK/pull"
H=$(printf '%s\n' "${h[@]}" | median)
C=$(printf '%s\n' "${c[@]}" | median)
R=$(printf '%s\n' "${rss[@]}" | max)
echo "--------------------------------------------------------------"
printf '%-44s %8s\n' "size" "${SIZE_MIB} MiB"
printf '%-44s %8.2f s\n' "haul pull (download+verify+install), median" "$H"
printf '%-44s %8.2f s\n' "curl -o (no verification), median" "$C"
printf '%-44s %8.2f\n' "ratio haul/curl" "$(echo "$H/$C" | bc -l)"
printf '%-44s %8.1f MiB\n' "haul peak RSS (max of runs)" "$(echo "$R/1024" | bc -l)"
