#!/usr/bin/env bash
# The quick-start demo: build a sample USB stick image (DOS partition table, FAT32, an EICAR
# test file among clean files) with real tools, then scan it with the build-time signature
# database, first as a human summary, then as JSON.
# Usage: kiosk/demo.sh MEDIAGATE SIGDB OUTDIR
set -euo pipefail
mediagate=$1 sigdb=$2 out=$3
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
echo "== building a sample stick: $out/fat32-mbr.img"
bash "$top/tests/media/mkmedia.sh" fat32-mbr "$out" >"$out/mkmedia.log" 2>&1 ||
        { cat "$out/mkmedia.log"; exit 1; }
echo "== mediagate scan --db $sigdb $out/fat32-mbr.img"
rc=0
"$mediagate" scan --db "$sigdb" "$out/fat32-mbr.img" || rc=$?
echo "(exit status $rc)"
echo "== mediagate scan --json --db $sigdb $out/fat32-mbr.img"
rc=0
"$mediagate" scan --json --db "$sigdb" "$out/fat32-mbr.img" || rc=$?
echo "(exit status $rc)"
if [ "$rc" -ne 1 ]; then
        echo "demo: expected the verdict 'infected' (exit status 1)" >&2
        exit 1
fi
