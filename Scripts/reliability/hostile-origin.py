# A hostile HTTP origin for the review attacks (loopback only). Usage: python3 Scripts/reliability/hostile-origin.py REPO PORT
# URL: http://127.0.0.1:PORT/<mode>-<b|i|m|a>/<repo path>: serves REPO's files with <mode>'s fault on blobs, the index, manifests or all.
import sys, os, re, time, gzip, zlib, socketserver, http.server, threading
REPO = sys.argv[1]; PORT = int(sys.argv[2])
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): sys.stderr.write("%s %s %s\n" % (self.path, self.headers.get("Range"), a[1] if len(a)>1 else ""))
    def raw(self, b): self.wfile.write(b); self.wfile.flush()
    def do_GET(self):
        sys.stderr.write("%.1f %s %s\n" % (time.time(), self.path[:80], self.headers.get("Range"))); sys.stderr.flush()
        parts = self.path.split("/", 2); mode = parts[1]; rel = parts[2] if len(parts) > 2 else ""
        fp = os.path.join(REPO, rel)
        data = open(fp, "rb").read() if os.path.isfile(fp) else None
        isidx = rel == "index.json"; isman = rel.startswith("manifests/"); isblob = rel.startswith("blobs/")
        rng = self.headers.get("Range")
        def target(flag):  # which documents a mode applies to
            return {"i": isidx, "m": isman, "b": isblob, "a": True}[flag]
        m, _, flag = mode.partition("-"); flag = flag or "a"
        if data is None: self.raw(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"); return
        start, end = 0, len(data) - 1; status = b"200 OK"
        if rng:
            mm = re.match(r"bytes=(\d+)-(\d*)", rng); start = int(mm.group(1)); end = int(mm.group(2)) if mm.group(2) else len(data)-1
            status = b"206 Partial Content"
        body = data[start:end+1]
        cr = b"Content-Range: bytes %d-%d/%d\r\n" % (start, end, len(data)) if rng else b""
        def normal(extra=b"", b=body, st=status, crh=cr):
            self.raw(b"HTTP/1.1 " + st + b"\r\n" + crh + b"Content-Length: %d\r\n" % len(b) + extra + b"\r\n" + b)
        if not target(flag) or m == "ok": return normal()
        if m == "ra_huge": return self.raw(b"HTTP/1.1 503 Busy\r\nRetry-After: 99999999999999999999999999\r\nContent-Length: 0\r\n\r\n")
        if m == "ra_date": return self.raw(b"HTTP/1.1 503 Busy\r\nRetry-After: Fri, 31 Dec 9999 23:59:59 GMT\r\nContent-Length: 0\r\n\r\n")
        if m == "ra_neg": return self.raw(b"HTTP/1.1 429 Busy\r\nRetry-After: -9223372036854775808\r\nContent-Length: 0\r\n\r\n")
        if m == "cl_huge": return self.raw(b"HTTP/1.1 " + status + b"\r\n" + cr + b"Content-Length: 99999999999999999999999\r\n\r\n" + body)
        if m == "cl_dup": return self.raw(b"HTTP/1.1 " + status + b"\r\n" + cr + b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n" % (len(body), len(body)+5) + body + b"XXXXX")
        if m == "cl_neg": return self.raw(b"HTTP/1.1 " + status + b"\r\n" + cr + b"Content-Length: -1\r\n\r\n" + body)
        if m == "cr_huge": return normal(crh=b"Content-Range: bytes 0-99999999999999999999/99999999999999999999\r\n")
        if m == "cr_maxint": return normal(crh=b"Content-Range: bytes 9223372036854775806-9223372036854775807/9223372036854775807\r\n")
        if m == "cr_shift":  # 206 for a different (valid) range, body matching Content-Range
            s2 = max(0, start - 1); b2 = data[s2:s2 + len(body)]
            return normal(b=b2, crh=b"Content-Range: bytes %d-%d/%d\r\n" % (s2, s2+len(b2)-1, len(data)))
        if m == "cr_star": return normal(crh=b"Content-Range: bytes */%d\r\n" % len(data))
        if m == "etag_ctrl": return normal(extra=b'ETag: "\x1b[31mRED\x07"\r\n')
        if m == "etag_huge": return normal(extra=b'ETag: "' + b"a"*60000 + b'"\r\n')
        if m == "loc_ctrl": return self.raw(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/ok/\x1b]0;pwned\x07%s\r\nContent-Length: 0\r\n\r\n" % (PORT, rel.encode()))
        if m == "loc_other": return self.raw(b"HTTP/1.1 302 Found\r\nLocation: http://localhost:%d/ok/%s\r\nContent-Length: 0\r\n\r\n" % (PORT, rel.encode()))
        if m == "loc_port": return self.raw(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:99999/ok/%s\r\nContent-Length: 0\r\n\r\n" % rel.encode())
        if m == "loc_port2": return self.raw(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:18446744073709551617/ok/%s\r\nContent-Length: 0\r\n\r\n" % rel.encode())
        if m == "loc_port0": return self.raw(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:0/ok/%s\r\nContent-Length: 0\r\n\r\n" % rel.encode())
        if m == "loc_rel": return self.raw(b"HTTP/1.1 302 Found\r\nLocation: //127.0.0.1:99999/x\r\nContent-Length: 0\r\n\r\n")
        if m == "loc_pct": return self.raw(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/ok%%1B%%5B2J%%1B%%5D0;x%%07/%s\r\nContent-Length: 0\r\n\r\n" % (PORT, rel.encode()))
        if m == "loc_utf8": return self.raw(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/ok\xe2\x80\xae\xc2\x9b/%s\r\nContent-Length: 0\r\n\r\n" % (PORT, rel.encode()))
        if m == "loc_loop2": 
            host = b"localhost" if b"127" in self.headers.get("Host","").encode() else b"127.0.0.1"
            return self.raw(b"HTTP/1.1 302 Found\r\nLocation: http://%s:%d/loc_loop2-i/%s\r\nContent-Length: 0\r\n\r\n" % (host, PORT, rel.encode()))
        if m == "loc_file": return self.raw(b"HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\n\r\n")
        if m == "loc_huge": return self.raw(b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:%d/ok/%s?%s\r\nContent-Length: 0\r\n\r\n" % (PORT, rel.encode(), b"a"*70000))
        if m == "gzip": z = gzip.compress(body); return normal(extra=b"Content-Encoding: gzip\r\n", b=z)
        if m == "gzipsame":  # gzip header but identity length; bytes actually gzip of something same length? send body raw with gzip label
            return normal(extra=b"Content-Encoding: gzip\r\n")
        if m == "deflate": z = zlib.compress(body); return normal(extra=b"Content-Encoding: deflate\r\n", b=z)
        if m == "chunk_huge": return self.raw(b"HTTP/1.1 " + status + b"\r\n" + cr + b"Transfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFFFFFF\r\n" + body + b"\r\n0\r\n\r\n")
        if m == "chunked": return self.raw(b"HTTP/1.1 " + status + b"\r\n" + cr + b"Transfer-Encoding: chunked\r\n\r\n" + b"%x\r\n" % len(body) + body + b"\r\n0\r\n\r\n")
        if m == "chunked_endless":
            self.raw(b"HTTP/1.1 " + status + b"\r\n" + cr + b"Transfer-Encoding: chunked\r\n\r\n")
            try:
                while True: self.raw(b"10000\r\n" + b"\0"*65536 + b"\r\n")
            except Exception: return
        if m == "manyhdr": return normal(extra=b"".join(b"X-H%d: v\r\n" % i for i in range(200000)))
        if m == "hdr_drip":  # status then one header byte per second, forever
            self.raw(b"HTTP/1.1 " + status + b"\r\nX-Slow: ")
            try:
                while True: time.sleep(1); self.raw(b"a")
            except Exception: return
        if m == "info_loop":  # endless 1xx
            try:
                while True: self.raw(b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"); time.sleep(0.5)
            except Exception: return
        if m == "drip":  # body 1 byte per DRIP seconds, forever-ish
            self.raw(b"HTTP/1.1 " + status + b"\r\n" + cr + b"Content-Length: %d\r\n\r\n" % len(body))
            try:
                for c in body: time.sleep(float(os.environ.get("DRIP", "1.5"))); self.raw(bytes([c]))
            except Exception: return
        if m == "silent": time.sleep(100000); return
        if m == "status_junk": return self.raw(b"HTTP/1.1 99999999999999999999 X\r\nContent-Length: 0\r\n\r\n")
        if m == "s200junk": return self.raw(b"HTTP/1.1 200 \x1b[2J\x1b[31mOK\x07\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        if m == "err_ctrl": return self.raw(b"HTTP/1.1 404 \x1b[2J\x1b]0;pwned\x07Gone\r\nContent-Length: 0\r\n\r\n")
        if m == "200range":  # ignore range, whole body, but then append garbage past size
            return self.raw(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (len(data)+100) + data + b"G"*100)
        return normal()
class S(socketserver.ThreadingMixIn, http.server.HTTPServer): daemon_threads = True
S(("127.0.0.1", PORT), H).serve_forever()
