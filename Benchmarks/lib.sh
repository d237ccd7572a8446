# Shared helpers for the benchmark scripts (sourced).
set -euo pipefail
# The benchmark repositories are unsigned; signature checks cost microseconds either way.
export HAUL_ALLOW_UNSIGNED=1

ensure_tools() {
    local missing=()
    command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
    command -v curl >/dev/null 2>&1 || missing+=(curl)
    command -v aria2c >/dev/null 2>&1 || missing+=(aria2)
    [ -x /usr/bin/time ] || missing+=(time)
    command -v bc >/dev/null 2>&1 || missing+=(bc)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "==> installing ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
}

# haul as it ships (see README, Install): release, Swift runtime linked statically, in its own build folder.
build_haul() {
    echo "==> building haul (release, static Swift runtime)"
    local flags=(-c release --product haul --static-swift-stdlib --scratch-path .build-static)
    swift build "${flags[@]}" >/dev/null
    HAUL=$(swift build "${flags[@]}" --show-bin-path)/haul
}

# publish_model DIR SIZE_MIB: random data published as bench@1 into DIR/repo; sets BLOB.
publish_model() {
    local dir=$1 size=$2
    rm -rf "$dir" && mkdir -p "$dir/model"
    head -c "$((size * 1024 * 1024))" /dev/urandom > "$dir/model/weights.bin"
    "$HAUL" publish "$dir/model" --repo "$dir/repo" bench@1 --quiet
    BLOB=$(ls "$dir/repo/blobs/sha256" | head -1)
    cat "$dir/repo/blobs/sha256/$BLOB" > /dev/null
}

# start_nginx DIR EXTRA: serves DIR/repo on a free port with EXTRA directives; sets PORT and NGINX_PID.
start_nginx() {
    local dir=$1 extra=${2:-}
    mkdir -p "$dir/nginx/logs"
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat > "$dir/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path $dir/nginx/body;
    proxy_temp_path $dir/nginx/proxy;
    fastcgi_temp_path $dir/nginx/fastcgi;
    uwsgi_temp_path $dir/nginx/uwsgi;
    scgi_temp_path $dir/nginx/scgi;
    server { listen 127.0.0.1:$PORT; root $dir/repo; $extra }
}
CONF
    "$NGINX" -p "$dir/nginx" -c "$dir/nginx/nginx.conf" &
    NGINX_PID=$!
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/index.json" && return; sleep 0.1; done
    echo "nginx did not start" >&2; exit 1
}

# timed VAR RSSVAR -- command...: wall seconds into VAR, peak RSS (KiB) into RSSVAR.
timed() {
    local var=$1 rssvar=$2; shift 3
    /usr/bin/time -v -o "$WORK/time.txt" "$@" >/dev/null 2>"$WORK/stderr.txt" || { cat "$WORK/stderr.txt" >&2; exit 1; }
    printf -v "$var" '%s' "$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(j=1;j<=n;j++) s=s*60+p[j]; print s}' "$WORK/time.txt")"
    printf -v "$rssvar" '%s' "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
max() { sort -n | tail -1; }

# uncapped DIR SIZE_MIB RUNS: haul pull vs curl -o from nginx without a cap, printing each run; sets H_MEDIAN,
# C_MEDIAN and RSS_MAX (KiB). Used by pull-vs-curl.sh and by engine.sh's second comparison.
uncapped() {
    local dir=$1 size=$2 runs=$3 h=() c=() rss=() b=() brss=() t r i
    publish_model "$dir" "$size"
    start_nginx "$dir" ""
    local url="http://127.0.0.1:$PORT"
    rm -rf "$dir/store" "$dir/c.bin"
    for i in $(seq "$runs"); do
        # Each command's own cleanup (removing what it wrote) is inside its timing, so no run pays for another's files.
        timed t r -- bash -c '"$0" pull bench --repo "$1" --store "$2/store" --quiet && rm -rf "$2/store"' \
            "$HAUL" "$url" "$dir"; h+=("$t"); rss+=("$r")
        timed t r -- bash -c 'curl -s -o "$1/c.bin" "$0" && rm -f "$1/c.bin"' "$url/blobs/sha256/$BLOB" "$dir"; c+=("$t")
        printf '  run %d: haul %6.2f s (peak RSS %5.1f MiB)   curl %6.2f s' "$i" "${h[-1]}" "$(echo "${rss[-1]}/1024" | bc -l)" "${c[-1]}"
        if [ -n "${HAUL_BASELINE:-}" ]; then
            # Another haul binary (an earlier commit), in the same alternation.
            timed t r -- bash -c '"$0" pull bench --repo "$1" --store "$2/store" --quiet && rm -rf "$2/store"' \
                "$HAUL_BASELINE" "$url" "$dir"; b+=("$t"); brss+=("$r")
            printf '   baseline %6.2f s (peak RSS %5.1f MiB)' "${b[-1]}" "$(echo "${brss[-1]}/1024" | bc -l)"
        fi
        printf '\n'
    done
    kill "$NGINX_PID"; wait "$NGINX_PID" 2>/dev/null || true
    H_MEDIAN=$(printf '%s\n' "${h[@]}" | median)
    C_MEDIAN=$(printf '%s\n' "${c[@]}" | median)
    RSS_MAX=$(printf '%s\n' "${rss[@]}" | max)
    if [ -n "${HAUL_BASELINE:-}" ]; then
        B_MEDIAN=$(printf '%s\n' "${b[@]}" | median)
        B_RSS_MAX=$(printf '%s\n' "${brss[@]}" | max)
    fi
    rm -rf "$dir"
}
