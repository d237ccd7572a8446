#!/usr/bin/env python3
"""Resident memory of a real `haul serve` across many long-path requests.

    Benchmarks/serve-memory.py HAUL_BINARY REPO_FOLDER [REQUESTS] [PATH_BYTES]

Starts `haul serve REPO --port 0`, sends REQUESTS (default 20000) GETs for missing paths of about PATH_BYTES (default
4000) bytes on 4 keep-alive connections, and prints VmRSS after a 1000-request warm-up and at the end.
"""
import re, socket, subprocess, sys, time

haul, repo = sys.argv[1], sys.argv[2]
total = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
length = int(sys.argv[4]) if len(sys.argv) > 4 else 4000
server = subprocess.Popen([haul, "serve", repo, "--port", "0"], stdout=subprocess.PIPE, text=True)
line = server.stdout.readline()
port = int(re.search(r":(\d+)/", line).group(1))

def rss():
    with open(f"/proc/{server.pid}/status") as f:
        return int(next(l for l in f if l.startswith("VmRSS")).split()[1])

connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
def one(sock, i):
    path = "/blobs/" + ("a/" * (length // 2))[:length] + str(i)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("server closed the connection")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
    need = int(m.group(1)) if m else 0
    while len(body) < need:
        body += sock.recv(65536)

start = time.monotonic()
for i in range(1000):
    one(connections[i % 4], i)
warm = rss()
for i in range(1000, total):
    one(connections[i % 4], i)
end = rss()
server.terminate()
per = (end - warm) * 1024 / max(1, total - 1000)
print(f"{total} requests with {length}-byte paths in {time.monotonic() - start:.1f} s: VmRSS after warm-up {warm} KiB, "
      f"at end {end} KiB, growth {end - warm} KiB ({per:.0f} bytes per request)")
