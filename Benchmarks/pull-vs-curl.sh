#!/usr/bin/env bash
# haul pull (download + per-chunk verify + install, release build) vs curl -o (no verification),
# from nginx on 127.0.0.1 serving a published model of random data.
# Usage: Benchmarks/pull-vs-curl.sh [size-MiB=1024] [runs=5]
# Prints each run, the medians, the ratio haul/curl and haul's peak RSS (from /usr/bin/time -v).
set -euo pipefail
# The benchmark repositories are unsigned; signature checks cost microseconds either way.
export HAUL_ALLOW_UNSIGNED=1
cd "$(dirname "$0")/.."
SIZE_MIB=${1:-1024}
RUNS=${2:-5}
WORK=${HAUL_BENCH_DIR:-$PWD/Benchmarks/work}

for tool in nginx curl /usr/bin/time; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
        echo "==> installing nginx, curl and time"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light curl time >/dev/null
        break
    fi
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

echo "==> building haul (release)"
swift build -c release --product haul >/dev/null
HAUL=$(swift build -c release --show-bin-path)/haul

rm -rf "$WORK" && mkdir -p "$WORK/model" "$WORK/nginx/logs"
echo "==> generating and publishing a ${SIZE_MIB} MiB model"
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$WORK/model/weights.bin"
"$HAUL" publish "$WORK/model" --repo "$WORK/repo" --name bench --version 1 --quiet
BLOB=$(ls "$WORK/repo/blobs/sha256" | head -1)

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server { listen 127.0.0.1:$PORT; root $WORK/repo; }
}
CONF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
NGINX_PID=$!
trap 'kill $NGINX_PID 2>/dev/null || true' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/index.json" && break; sleep 0.1; done
cat "$WORK/repo/blobs/sha256/$BLOB" > /dev/null   # warm the origin's page cache for both tools

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
haul_times=() curl_times=() rss=()
for i in $(seq "$RUNS"); do
    rm -rf "$WORK/store" "$WORK/curl.out"
    /usr/bin/time -v -o "$WORK/time.txt" "$HAUL" pull bench --repo "http://127.0.0.1:$PORT" --store "$WORK/store" --quiet
    t=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(j=1;j<=n;j++) s=s*60+p[j]; print s}' "$WORK/time.txt")
    r=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
    haul_times+=("$t"); rss+=("$r")
    c=$(curl -s -o "$WORK/curl.out" -w '%{time_total}' "http://127.0.0.1:$PORT/blobs/sha256/$BLOB")
    curl_times+=("$c")
    printf 'run %d: haul %6.2f s (peak RSS %6.1f MiB)   curl %6.2f s\n' "$i" "$t" "$(echo "$r/1024" | bc -l)" "$c"
done
rm -rf "$WORK/curl.out"
H=$(printf '%s\n' "${haul_times[@]}" | median)
C=$(printf '%s\n' "${curl_times[@]}" | median)
R=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
echo "--------------------------------------------------------------"
printf '%-44s %8s\n' "size" "${SIZE_MIB} MiB"
printf '%-44s %8.2f s\n' "haul pull (download+verify+install), median" "$H"
printf '%-44s %8.2f s\n' "curl -o (no verification), median" "$C"
printf '%-44s %8.2f\n' "ratio haul/curl" "$(echo "$H/$C" | bc -l)"
printf '%-44s %8.1f MiB\n' "haul peak RSS (max of runs)" "$(echo "$R/1024" | bc -l)"
