#!/usr/bin/env bash
# haul serve soak: 100 concurrent connections (wrk) for 30 s over a mix of whole files, ranges, the index and long
# missing paths, plus 200 idle connections that send half a request and wait. Prints errors, resident memory at
# start / during / end, and how many idle connections the server dropped (its request-header timeout).
#
#   Benchmarks/serve-soak.sh [SECONDS] [CONNECTIONS] [IDLE]      (defaults 30 100 200)
#   HAUL=.build/debug/haul Benchmarks/serve-soak.sh              (skip the release build)
cd "$(dirname "$0")/.."
source Benchmarks/lib.sh
DURATION=${1:-30}
CONNECTIONS=${2:-100}
IDLE=${3:-200}
HEADER_TIMEOUT=${HEADER_TIMEOUT:-10}

if ! command -v wrk >/dev/null 2>&1; then
    echo "==> installing wrk"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
[ -n "${HAUL:-}" ] || build_haul
echo "==> haul: $HAUL"

WORK=$(mktemp -d)
trap 'kill "${SERVE_PID:-}" "${SAMPLER_PID:-}" "${IDLE_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/model"
head -c $((8 * 1024 * 1024)) /dev/urandom > "$WORK/model/weights.bin"
"$HAUL" publish "$WORK/model" --repo "$WORK/repo" soak@1 --quiet
BLOB=$(ls "$WORK/repo/blobs/sha256" | head -1)

ulimit -n 4096 2>/dev/null || true
"$HAUL" serve "$WORK/repo" --port 0 --header-timeout "$HEADER_TIMEOUT" > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVE_PID=$!
for _ in $(seq 100); do grep -q Serving "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's#.*http://[^/]*:\([0-9][0-9]*\)/.*#\1#p' "$WORK/serve.out" | head -1)
[ -n "$PORT" ] || { echo "haul serve did not start:"; cat "$WORK/serve.err"; exit 1; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SERVE_PID/status"; }

# A short warm-up so "start" is the steady state of a serving process, not an idle one.
curl -s -o /dev/null "http://127.0.0.1:$PORT/index.json"
RSS_START=$(rss)

( while kill -0 "$SERVE_PID" 2>/dev/null; do rss >> "$WORK/rss.samples"; sleep 1; done ) &
SAMPLER_PID=$!

python3 - "$PORT" "$IDLE" "$((DURATION + 5))" > "$WORK/idle.out" <<'PY' &
import socket, sys, time, select
port, count, wait = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
sockets, opened = [], 0
for _ in range(count):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /index.json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
        s.setblocking(False)
        sockets.append((s, time.monotonic()))
        opened += 1
    except OSError:
        pass
dropped, after, deadline = 0, [], time.monotonic() + wait
live = dict((s.fileno(), (s, t)) for s, t in sockets)
while live and time.monotonic() < deadline:
    ready, _, _ = select.select([s for s, _ in live.values()], [], [], 0.5)
    for s in ready:
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:
            _, t = live.pop(s.fileno())
            dropped += 1
            after.append(time.monotonic() - t)
            s.close()
span = f"{min(after):.1f}-{max(after):.1f} s after sending" if after else "-"
print(f"idle half-sent connections: {opened} opened, {dropped} dropped by the server ({span}), {len(live)} still open")
PY
IDLE_PID=$!

cat > "$WORK/mix.lua" <<LUA
local paths = {
  {"/blobs/sha256/$BLOB", nil},
  {"/blobs/sha256/$BLOB", "bytes=0-65535"},
  {"/blobs/sha256/$BLOB", "bytes=4194304-4259839"},
  {"/index.json", nil},
  {"/blobs/" .. string.rep("a", 200) .. "/" .. string.rep("b/", 1500) .. "missing", nil},
}
local threads = {}
local counter = 0
function setup(thread) table.insert(threads, thread) end
function init(args) unexpected = 0; counter = 0 end
function request()
  counter = counter + 1
  local p = paths[(counter % #paths) + 1]
  local headers = {}
  if p[2] then headers["Range"] = p[2] end
  return wrk.format("GET", p[1], headers)
end
function response(status, headers, body)
  if status ~= 200 and status ~= 206 and status ~= 404 then unexpected = unexpected + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("unexpected") end
  local e = summary.errors
  io.write(string.format("requests: %d, unexpected statuses: %d, socket errors: connect %d read %d write %d timeout %d\n",
    summary.requests, total, e.connect, e.read, e.write, e.timeout))
  io.write(string.format("errors: %d\n", total + e.connect + e.read + e.write + e.timeout))
end
LUA

echo "==> wrk: $CONNECTIONS connections for ${DURATION}s, plus $IDLE idle half-sent requests (header timeout ${HEADER_TIMEOUT}s)"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$WORK/mix.lua" "http://127.0.0.1:$PORT" > "$WORK/wrk.out" 2>&1
wait "$IDLE_PID" || true
RSS_END=$(rss)
kill "$SAMPLER_PID" 2>/dev/null || true
sed -n '/Requests\/sec/p;/Transfer\/sec/p;/^requests:/p;/^errors:/p' "$WORK/wrk.out" | sort -u
cat "$WORK/idle.out"
MAX=$(sort -n "$WORK/rss.samples" | tail -1)
MID=$(sed -n "$(( $(wc -l < "$WORK/rss.samples") / 2 + 1 ))p" "$WORK/rss.samples")
echo "RSS (KiB): start $RSS_START, during (middle) $MID, during (max) $MAX, end $RSS_END"
echo "RSS every 5 s (KiB): $(awk 'NR % 5 == 1' "$WORK/rss.samples" | tr '\n' ' ')"
kill -0 "$SERVE_PID" 2>/dev/null && echo "haul serve still running: yes" || echo "haul serve still running: NO"
