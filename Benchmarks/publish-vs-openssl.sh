#!/usr/bin/env bash
# haul publish (whole-file SHA-256, content-defined chunks with their SHA-256, blob copy, fsync, manifest, index)
# vs openssl dgst -sha256 (one hash, nothing written) of the same files, release build as it ships.
# Usage: Benchmarks/publish-vs-openssl.sh [size-MiB=1024] [runs=5] [files=1]
# Alternating runs (haul, openssl, haul, openssl …); haul's timing includes removing the repository it wrote.
# The source is read once before the first run, so both commands read it from the page cache.
# Prints every pair, the medians, the ratio haul/openssl and haul's peak RSS.
cd "$(dirname "$0")/.."
source Benchmarks/lib.sh
SIZE_MIB=${1:-1024}
RUNS=${2:-5}
FILES=${3:-1}
WORK=${HAUL_BENCH_DIR:-$PWD/Benchmarks/work}/publish
ensure_tools
command -v openssl >/dev/null || { apt-get install -y -qq openssl >/dev/null; }
build_haul
rm -rf "$WORK" && mkdir -p "$WORK/model"
for i in $(seq "$FILES"); do
    head -c "$((SIZE_MIB * 1024 * 1024 / FILES))" /dev/urandom > "$WORK/model/part-$i.bin"
done
cat "$WORK"/model/* > /dev/null

now() { date +%s.%N; }
h=(); o=(); rss=()
echo "==> ${SIZE_MIB} MiB in $FILES file(s), $RUNS alternating runs"
for i in $(seq "$RUNS"); do
    start=$(now)
    /usr/bin/time -v -o "$WORK/time.txt" "$HAUL" publish "$WORK/model" --repo "$WORK/repo" bench@1 \
        --quiet >/dev/null 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt" >&2; exit 1; }
    rm -rf "$WORK/repo"
    h+=("$(echo "$(now) - $start" | bc -l)")
    rss+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")")
    start=$(now)
    openssl dgst -sha256 "$WORK"/model/* >/dev/null
    o+=("$(echo "$(now) - $start" | bc -l)")
    printf '  run %d: haul publish %6.2f s (peak RSS %5.1f MiB)   openssl dgst -sha256 %6.2f s\n' "$i" "${h[-1]}" \
        "$(echo "${rss[-1]}/1024" | bc -l)" "${o[-1]}"
done
H=$(printf '%s\n' "${h[@]}" | median)
O=$(printf '%s\n' "${o[@]}" | median)
echo "--------------------------------------------------------------"
printf '%-44s %8.2f s\n' "haul publish, median" "$H"
printf '%-44s %8.2f s\n' "openssl dgst -sha256, median" "$O"
printf '%-44s %8.2f\n' "ratio haul/openssl" "$(echo "$H/$O" | bc -l)"
printf '%-44s %8.1f MiB\n' "haul peak RSS (max of runs)" "$(echo "$(printf '%s\n' "${rss[@]}" | max)/1024" | bc -l)"
rm -rf "$WORK"
