#!/usr/bin/env bash
# Shared helpers for the reliability scripts (sourced, not run). Everything stays on 127.0.0.1.
#
#   HAUL=<path>    the haul binary (default: .build/release/haul, else .build/debug/haul)
#   KEEP=1         keep the work folder for inspection
set -euo pipefail

RELIABILITY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$RELIABILITY_DIR/../.." && pwd)"

# The haul binary: $HAUL, else the release build, else the debug build.
find_haul() {
    if [ -n "${HAUL:-}" ]; then echo "$HAUL"; return; fi
    for candidate in "$ROOT/.build/release/haul" "$ROOT/.build/debug/haul"; do
        if [ -x "$candidate" ]; then echo "$candidate"; return; fi
    done
    echo "error: no haul binary; run \`swift build -c release --product haul\` (or set HAUL=)" >&2
    exit 1
}

find_nginx() {
    for candidate in /usr/sbin/nginx /usr/local/sbin/nginx /usr/bin/nginx /opt/homebrew/bin/nginx; do
        if [ -x "$candidate" ]; then echo "$candidate"; return; fi
    done
    echo "error: nginx is not installed (apt-get install nginx-light)" >&2
    exit 1
}

# A work folder removed on exit (unless KEEP=1), with every process we started stopped by its id.
WORK="${WORK:-}"
STARTED_PIDS=()
make_work() {
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/haul-reliability-$1.XXXXXX")"
    chmod 755 "$WORK"  # nginx's workers (an unprivileged user) read the repository inside it
    trap cleanup EXIT
}
cleanup() {
    local pid
    for pid in "${STARTED_PIDS[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    done
    if [ -n "$WORK" ] && [ "${KEEP:-0}" != 1 ]; then rm -rf "$WORK"; fi
    if [ "${KEEP:-0}" = 1 ]; then echo "work folder kept: $WORK"; fi
}

# A free loopback port (asks the kernel).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# start_nginx ROOT RATE: serves ROOT on 127.0.0.1, blobs limited to RATE per connection (nginx limit_rate syntax,
# "0" for none). Sets NGINX_URL and NGINX_LOG. The log has one line per request:
#   <end time msec> <request time s> <status> <uri> "<Range header>" <body bytes sent> <connection serial>
start_nginx() {
    local root="$1" rate="$2" prefix="$WORK/nginx" port
    port="$(free_port)"
    mkdir -p "$prefix/logs"
    cat >"$prefix/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 1024; }
http {
    log_format haul '\$msec \$request_time \$status \$uri "\$http_range" \$body_bytes_sent \$connection';
    access_log $prefix/logs/access.log haul;
    sendfile on;
    keepalive_requests 100000;
    client_body_temp_path $prefix/body;
    proxy_temp_path $prefix/proxy;
    fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi;
    scgi_temp_path $prefix/scgi;
    server {
        listen 127.0.0.1:$port;
        root $root;
        location / { }
        location /blobs/ { limit_rate $rate; }
        location = /nginx-status { stub_status; }
    }
}
CONF
    "$(find_nginx)" -p "$prefix" -c "$prefix/nginx.conf" &
    STARTED_PIDS+=($!)
    NGINX_URL="http://127.0.0.1:$port/"
    NGINX_LOG="$prefix/logs/access.log"
    local i
    for i in $(seq 1 200); do
        if curl -s -o /dev/null "${NGINX_URL}nginx-status"; then return; fi
        sleep 0.05
    done
    echo "error: nginx did not start; see $prefix/logs/error.log" >&2
    exit 1
}

# Waits (at most 30 s) until nginx has no connection but the one asking, so every request is in its log.
nginx_settle() {
    local i active
    for i in $(seq 1 600); do
        active="$(curl -s "${NGINX_URL}nginx-status" | awk '/Active connections/ {print $3}')"
        if [ "$active" = 1 ]; then return; fi
        sleep 0.05
    done
    echo "warning: nginx still has $active connections after 30 s" >&2
}

# publish_model SRC REPO NAME SIZE_MIB [FILES]: writes FILES random files totalling SIZE_MIB into SRC (sizes split
# 1/2, 1/4, 1/8 … so blobs commit at different moments) and publishes them as NAME@1.
publish_model() {
    local src="$1" repo="$2" name="$3" mib="$4" files="${5:-4}" i size left
    mkdir -p "$src"
    left=$((mib << 20))
    for i in $(seq 1 "$files"); do
        if [ "$i" -eq "$files" ]; then size=$left; else size=$((left / 2)); fi
        head -c "$size" /dev/urandom >"$src/part-$i.bin"
        left=$((left - size))
    done
    "$(find_haul)" publish "$src" --repo "$repo" "$name@1" --quiet
}

# same_tree A B: exit 0 when the two folders hold the same files with the same bytes.
same_tree() { diff -r -q "$1" "$2" >/dev/null 2>&1; }
