#!/usr/bin/env python3
"""Helpers for the reliability scripts: store checks and nginx access-log accounting.

  reliability.py check-store STORE SRC NAME       nothing wrong visible in the store (exit 1 and say what otherwise)
  reliability.py max-chunk REPO                    the largest chunk of any manifest in a repository folder
  reliability.py refetch LOG RUNS OUT.csv          bytes fetched again per kill (see `refetch`)
  reliability.py origin-bytes LOG [SINCE_LINE]     body bytes nginx sent for /blobs/ since a log line

The nginx log lines are `<end msec> <request time> <status> <uri> "<range>" <body bytes> <connection>`
(Scripts/reliability/common.sh writes that format).
"""
import bisect
import hashlib
import json
import os
import statistics
import sys


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            block = f.read(4 << 20)
            if not block:
                return digest.hexdigest()
            digest.update(block)


# Hashes by (device, inode, size, mtime): blobs are immutable and installed files are hard links to them.
CACHE_FILE = None
_cache = {}


def cached_hash(path):
    st = os.lstat(path)
    key = f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"
    if key not in _cache:
        _cache[key] = sha256_file(path)
    return _cache[key]


def load_cache(path):
    global CACHE_FILE
    CACHE_FILE = path
    if path and os.path.exists(path):
        with open(path) as f:
            _cache.update(json.load(f))


def save_cache():
    if CACHE_FILE:
        with open(CACHE_FILE, "w") as f:
            json.dump(_cache, f)


def files_under(folder):
    out = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            full = os.path.join(dirpath, name)
            out[os.path.relpath(full, folder)] = full
    return out


def check_store(store, src, name):
    """Every blob's bytes equal one source file's; an installed version is complete and exact. Prints a status."""
    problems = []
    source = {rel: cached_hash(path) for rel, path in files_under(src).items()}
    good = set(source.values())
    blobs_dir = os.path.join(store, "blobs", "table-sha256")
    blobs = sorted(os.listdir(blobs_dir)) if os.path.isdir(blobs_dir) else []
    for blob in blobs:
        path = os.path.join(blobs_dir, blob)
        if os.path.islink(path) or not os.path.isfile(path):
            problems.append(f"blobs/table-sha256/{blob} is not a regular file")
        elif cached_hash(path) not in good:
            problems.append(f"blobs/table-sha256/{blob} holds bytes of no source file")
    installed = os.path.join(store, "models", name, "1")
    state = "absent"
    if os.path.lexists(installed):
        state = "installed"
        have = files_under(installed)
        if set(have) != set(source):
            problems.append(f"models/{name}/1 has files {sorted(have)}, expected {sorted(source)}")
        for rel, path in have.items():
            if rel in source and cached_hash(path) != source[rel]:
                problems.append(f"models/{name}/1/{rel} has wrong bytes")
    save_cache()
    print(f"blobs={len(blobs)} model={state} problems={len(problems)}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


def manifest_files(node):
    if isinstance(node, dict):
        if "files" in node and isinstance(node["files"], list):
            return node["files"]
        for value in node.values():
            found = manifest_files(value)
            if found:
                return found
    return []


def max_chunk(repo):
    folder = os.path.join(repo, "manifests", "sha256")
    largest = 0
    for name in os.listdir(folder):
        with open(os.path.join(folder, name)) as f:
            for file in manifest_files(json.load(f)):
                for chunk in file.get("chunks", []):
                    largest = max(largest, int(chunk["size"]))
    print(largest)
    return 0


def read_log(path, since=0):
    """Blob GETs: (start time, end time, uri, first byte, body bytes)."""
    records = []
    with open(path) as f:
        for number, line in enumerate(f):
            if number < since:
                continue
            parts = line.split()
            if len(parts) < 7 or "/blobs/" not in parts[3]:
                continue
            end, took, uri, sent = float(parts[0]), float(parts[1]), parts[3], int(parts[-2])
            rng = line.split('"')[1] if '"' in line else "-"
            first = 0
            if rng.startswith("bytes=") and rng[6:].split("-")[0].isdigit():
                first = int(rng[6:].split("-")[0])
            records.append((end - took, end, uri, first, sent))
    return records


def merge(intervals):
    out = []
    for lo, hi in sorted(tuple(x) for x in intervals):
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return out


def measure(intervals):
    return sum(hi - lo for lo, hi in intervals)


def intersect(a, b):
    out, i, j = 0, 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out += hi - lo
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def max_concurrency(records):
    events = sorted([(r[0], 1) for r in records] + [(r[1], -1) for r in records])
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    return peak


def refetch(log, runs_file, out_csv):
    """Bytes fetched again per kill.

    RUNS has one line per run: `<index> <generation> <start epoch> <end epoch> <killed|completed|final>`. Each blob
    request belongs to the run whose window holds its start. The bytes of kill k fetched again are the bytes the
    origin sent during run k that it sends again in a later run of the same generation (a generation ends when a pull
    completes and the model is removed). Bytes sent twice within one run are reported apart (`within run`).
    """
    runs = []
    with open(runs_file) as f:
        for line in f:
            index, generation, start, end, kind = line.split()
            runs.append((int(index), int(generation), float(start), float(end), kind))
    records = read_log(log)
    by_run = {run[0]: [] for run in runs}
    unassigned = 0
    starts = [run[2] - 0.01 for run in runs]
    for record in records:
        position = bisect.bisect_right(starts, record[0]) - 1
        run = runs[position] if position >= 0 else None
        owner = run[0] if run and record[0] <= run[3] + 0.01 else None
        if owner is None:
            unassigned += 1
        else:
            by_run[owner].append(record)
    unions = {}
    within = {}
    for index, recs in by_run.items():
        per_uri = {}
        for _, _, uri, first, sent in recs:
            per_uri.setdefault(uri, []).append((first, first + sent))
        unions[index] = {uri: merge(iv) for uri, iv in per_uri.items()}
        within[index] = sum(sent for *_, sent in recs) - sum(measure(u) for u in unions[index].values())
    rows = []
    later = {}  # generation -> uri -> merged intervals of runs after the current one
    for index, generation, start, end, kind in reversed(runs):
        after = later.setdefault(generation, {})
        again = sum(intersect(iv, after.get(uri, [])) for uri, iv in unions[index].items())
        sent = sum(r[4] for r in by_run[index])
        rows.append((index, generation, kind, end - start, sent, again, within[index], max_concurrency(by_run[index])))
        for uri, iv in unions[index].items():
            after[uri] = merge(after.get(uri, []) + [tuple(x) for x in iv])
    rows.reverse()
    with open(out_csv, "w") as f:
        f.write("run,generation,kind,seconds,sent,fetched_again,duplicated_within_run,max_connections\n")
        for row in rows:
            f.write(",".join(str(round(x, 3)) if isinstance(x, float) else str(x) for x in row) + "\n")
    kills = [row for row in rows if row[2] == "killed"]
    again = sorted(row[5] for row in kills)
    per_connection = sorted(row[5] / max(1, row[7]) for row in kills)
    mib = float(1 << 20)
    print(f"requests logged: {len(records)} (unassigned to a run: {unassigned})")
    print(f"kills: {len(kills)} ({sum(1 for row in kills if row[4] == 0)} before any blob byte was sent)")
    if again:
        print(f"fetched again per kill: median {statistics.median(again) / mib:.2f} MiB, "
              f"p90 {again[int(len(again) * 0.9)] / mib:.2f} MiB, p99 {again[int(len(again) * 0.99)] / mib:.2f} MiB, "
              f"max {again[-1] / mib:.2f} MiB")
        print(f"fetched again per kill per connection: median {statistics.median(per_connection) / mib:.2f} MiB, "
              f"max {per_connection[-1] / mib:.2f} MiB")
    print(f"total fetched again: {sum(again) / mib:.1f} MiB; "
          f"duplicated within a run: {sum(row[6] for row in rows) / mib:.1f} MiB; "
          f"origin total: {sum(row[4] for row in rows) / mib:.1f} MiB")
    return 0


def origin_bytes(log, since):
    print(sum(r[4] for r in read_log(log, since)))
    return 0


def main(argv):
    if len(argv) >= 4 and argv[0] == "check-store":
        load_cache(os.environ.get("HASH_CACHE"))
        return check_store(argv[1], argv[2], argv[3])
    if len(argv) == 2 and argv[0] == "max-chunk":
        return max_chunk(argv[1])
    if len(argv) == 4 and argv[0] == "refetch":
        return refetch(argv[1], argv[2], argv[3])
    if len(argv) in (2, 3) and argv[0] == "origin-bytes":
        return origin_bytes(argv[1], int(argv[2]) if len(argv) == 3 else 0)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
