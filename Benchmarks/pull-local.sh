#!/bin/bash
# Pull time of one large file from a local `haul serve`, for one or more haul binaries, alternating runs.
#
#   Benchmarks/pull-local.sh [size-MiB=1024] [runs=3] HAUL [HAUL...]
#   PULL_ARGS="--limit-rate 200M" Benchmarks/pull-local.sh …   (extra pull options, e.g. a network-like rate)
#
# Publishes SIZE MiB of random data once (with the first binary), serves it on 127.0.0.1 with the first binary,
# then pulls it into a fresh store with each binary in turn, RUNS times. Prints wall-clock seconds and CPU seconds
# (user + system) of every pull, then each binary's medians. The store lives on the same disk; the page cache is
# warm after the first run (no cache dropping: that needs root), so the figures compare binaries, not disks.
set -euo pipefail
size=${1:-1024}
runs=${2:-3}
shift 2
[ $# -ge 1 ] || { echo "usage: $0 [size-MiB] [runs] HAUL [HAUL...]" >&2; exit 2; }
work=$(mktemp -d /tmp/haul-pull-local.XXXXXX)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/src"
head -c $((size << 20)) /dev/urandom >"$work/src/model.bin"
"$1" publish "$work/src" --repo "$work/repo" big@1 --unsigned >/dev/null
port=$((20000 + RANDOM % 20000))
"$1" serve "$work/repo" --host 127.0.0.1 --port $port >/dev/null 2>&1 &
server=$!
sleep 1
declare -A walls cpus
for run in $(seq 1 "$runs"); do
    for haul in "$@"; do
        rm -rf "$work/store"
        start=$(date +%s.%N)
        /usr/bin/time -f '%U %S' -o "$work/cpu" "$haul" pull big --repo "http://127.0.0.1:$port/" \
            --store "$work/store" --allow-unsigned --quiet ${PULL_ARGS:-} >/dev/null 2>&1
        end=$(date +%s.%N)
        wall=$(echo "$end - $start" | bc)
        cpu=$(awk '{print $1 + $2}' "$work/cpu")
        echo "run $run $haul: wall ${wall}s cpu ${cpu}s"
        walls[$haul]+="$wall "
        cpus[$haul]+="$cpu "
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for haul in "$@"; do
    echo "median $haul: wall $(echo ${walls[$haul]} | median)s cpu $(echo ${cpus[$haul]} | median)s"
done
