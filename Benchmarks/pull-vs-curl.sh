#!/usr/bin/env bash
# haul pull (download + per-chunk verify + install, release build) vs curl -o (no verification),
# from nginx on 127.0.0.1 serving a published model of random data.
# Usage: Benchmarks/pull-vs-curl.sh [size-MiB=1024] [runs=5]
# Prints each run, the medians, the ratio haul/curl and haul's peak RSS (from /usr/bin/time -v).
# HAUL_BASELINE=path adds another haul binary (say, an earlier commit's) to the same alternation.
cd "$(dirname "$0")/.."
source Benchmarks/lib.sh
SIZE_MIB=${1:-1024}
RUNS=${2:-5}
WORK=${HAUL_BENCH_DIR:-$PWD/Benchmarks/work}
ensure_tools
build_haul
mkdir -p "$WORK"
trap 'kill ${NGINX_PID:-0} 2>/dev/null || true' EXIT

echo "==> ${SIZE_MIB} MiB model, $RUNS alternating runs"
uncapped "$WORK/pull" "$SIZE_MIB" "$RUNS"
echo "--------------------------------------------------------------"
printf '%-44s %8s\n' "size" "${SIZE_MIB} MiB"
printf '%-44s %8.2f s\n' "haul pull (download+verify+install), median" "$H_MEDIAN"
printf '%-44s %8.2f s\n' "curl -o (no verification), median" "$C_MEDIAN"
printf '%-44s %8.2f\n' "ratio haul/curl" "$(echo "$H_MEDIAN/$C_MEDIAN" | bc -l)"
printf '%-44s %8.1f MiB\n' "haul peak RSS (max of runs)" "$(echo "$RSS_MAX/1024" | bc -l)"
if [ -n "${HAUL_BASELINE:-}" ]; then
    printf '%-44s %8.2f s\n' "baseline haul pull, median" "$B_MEDIAN"
    printf '%-44s %8.1f MiB\n' "baseline peak RSS (max of runs)" "$(echo "$B_RSS_MAX/1024" | bc -l)"
fi
