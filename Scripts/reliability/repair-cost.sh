#!/usr/bin/env bash
# What repairing one flipped byte costs from the origin: a 200 MiB model pulled from nginx on 127.0.0.1, one byte of
# its largest file flipped, `haul verify` (must exit 4), `haul verify --repair`, `haul verify` again (must exit 0).
# Prints the blob bytes nginx sent for the repair (the bound: one chunk, at most 4 MiB).
#
# Usage: Scripts/reliability/repair-cost.sh [size-MiB=200]
source "$(dirname "$0")/common.sh"

SIZE_MIB="${1:-200}"
HAUL_BIN="$(find_haul)"
make_work repair-cost
publish_model "$WORK/src" "$WORK/repo" m "$SIZE_MIB" 4
start_nginx "$WORK/repo" 0
args=(--repo "$NGINX_URL" --store "$WORK/store" --allow-unsigned --quiet)
"$HAUL_BIN" pull m "${args[@]}" >/dev/null
target="$WORK/store/models/m/1/part-1.bin"
chmod u+w "$target"
python3 - "$target" <<'PY'
import sys
path = sys.argv[1]
with open(path, "r+b") as f:
    f.seek(123_456_789 % max(1, f.seek(0, 2)))
    byte = f.read(1)
    f.seek(-1, 1)
    f.write(bytes([byte[0] ^ 0x01]))
PY
set +e
"$HAUL_BIN" verify m "${args[@]}" >"$WORK/verify.out" 2>&1
verify_status=$?
nginx_settle
before="$(wc -l <"$NGINX_LOG")"
"$HAUL_BIN" verify --repair m "${args[@]}" >"$WORK/repair.out" 2>&1
repair_status=$?
nginx_settle
"$HAUL_BIN" verify m "${args[@]}" >/dev/null 2>&1
after_status=$?
set -e
fetched="$(tail -n +"$((before + 1))" "$NGINX_LOG" | awk '$4 ~ /^\/blobs\// {s += $6} END {print s + 0}')"
same_tree "$WORK/src" "$WORK/store/models/m/1" && exact=yes || exact=no
echo "model: ${SIZE_MIB} MiB in 4 files; one byte flipped in part-1.bin ($(($(stat -c %s "$target") >> 20)) MiB)"
echo "haul verify before: exit $verify_status ($(grep -m1 "damaged" "$WORK/verify.out"))"
echo "haul verify --repair: exit $repair_status; origin blob bytes for the repair: $fetched"
echo "haul verify after: exit $after_status; installed bytes equal the source: $exact"
if [ "$verify_status" -eq 4 ] && [ "$repair_status" -eq 0 ] && [ "$after_status" -eq 0 ] && [ "$exact" = yes ] \
    && [ "$fetched" -gt 0 ] && [ "$fetched" -le $((4 << 20)) ]; then
    echo "RESULT: PASS"
else
    echo "RESULT: FAIL"
    exit 1
fi
