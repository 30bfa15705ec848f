#!/usr/bin/env bash
# Benchmark of mediagate wipe against dd on the same target, in the same run.
#   bench/wipe-bench.sh [BUILD_DIR] [SIZE_MIB] [ROUNDS]
# Needs root (loop device); without root it uses the image file itself. Prints a Markdown table.
#   write:  dd if=/dev/zero of=T bs=4M oflag=direct   vs  mediagate wipe --method random --verify off
#   verify: dd if=T of=/dev/null bs=4M iflag=direct   vs  the full-verify pass of mediagate wipe
#   generation: wipe-stream-bench (keyed, tagged AES-256-CTR pattern, one core)
#   memory: peak RSS of one mediagate wipe (GNU time)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
size_mib=${2:-1024}
rounds=${3:-3}
cli=$build/kiosk/mediagate
gen=$build/kiosk/wipe-stream-bench
[ -x "$cli" ] && [ -x "$gen" ] || { echo "build first: $cli, $gen" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/var/tmp}/wipe-bench.XXXXXX")
dev=""
cleanup() { [ -n "$dev" ] && losetup -d "$dev" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
img=$work/target.img
dd if=/dev/zero of="$img" bs=1M count="$size_mib" status=none conv=fsync
bytes=$((size_mib * 1024 * 1024))

now() { date +%s.%N; }
# rate BYTES SECONDS -> MB/s
rate() { python3 -c "print(f'{$1/$2/1e6:.1f}')"; }
jget() { python3 -c "import json,sys; d=json.load(open('$1')); print(eval('d'+sys.argv[1]))" "$2"; }
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# bench_target TARGET LABEL: the rounds on one target, then its table rows.
bench_target() {
        local target=$1 label=$2
        local dd_w=() mg_w=() mg_z=() dd_r=() mg_v=() t0 t1
        for r in $(seq "$rounds"); do
                sync
                t0=$(now); dd if=/dev/zero of="$target" bs=4M count=$((size_mib / 4)) oflag=direct conv=notrunc status=none; t1=$(now)
                dd_w+=("$(python3 -c "print($t1-$t0)")")
                t0=$(now); "$cli" wipe --force-image --no-ledger -q --method random --verify off "$target" >/dev/null; t1=$(now)
                mg_w+=("$(python3 -c "print($t1-$t0)")")
                t0=$(now); "$cli" wipe --force-image --no-ledger -q --method zero --verify off "$target" >/dev/null; t1=$(now)
                mg_z+=("$(python3 -c "print($t1-$t0)")")
                t0=$(now); dd if="$target" of=/dev/null bs=4M iflag=direct status=none; t1=$(now)
                dd_r+=("$(python3 -c "print($t1-$t0)")")
                "$cli" wipe --force-image --no-ledger -q --method random --verify full --json "$target" > "$work/v.json"
                [ "$(jget "$work/v.json" "['status']")" = erased ] || { echo "wipe failed" >&2; exit 1; }
                mg_v+=("$(jget "$work/v.json" "['passes'][0]['verify_seconds']")")
        done
        local dw mw mz dr mv
        dw=$(med "${dd_w[@]}"); mw=$(med "${mg_w[@]}"); mz=$(med "${mg_z[@]}"); dr=$(med "${dd_r[@]}"); mv=$(med "${mg_v[@]}")
        echo "| $label | write: dd zero vs wipe random (verify off, wall time) | $(rate $bytes $dw) | $(rate $bytes $mw) | $(python3 -c "print(f'{$dw/$mw*100:.0f}%')") |"
        echo "| $label | write: dd zero vs wipe zero (the I/O engine alone) | $(rate $bytes $dw) | $(rate $bytes $mz) | $(python3 -c "print(f'{$dw/$mz*100:.0f}%')") |"
        echo "| $label | read: dd iflag=direct vs the full verify pass | $(rate $bytes $dr) | $(rate $bytes $mv) | $(python3 -c "print(f'{$dr/$mv*100:.0f}%')") |"
}

echo "$size_mib MiB per run, $rounds rounds, medians; MB/s"
echo
echo "| target | measure | dd | mediagate | ratio |"
echo "|---|---|---|---|---|"
if [ "$(id -u)" = 0 ] && dev=$(losetup -f --show "$img" 2>/dev/null); then
        bench_target "$dev" "loop, page-cache backed"
        losetup -d "$dev"; dev=""
        if dev=$(losetup --direct-io=on -f --show "$img" 2>/dev/null); then
                bench_target "$dev" "loop, direct-io=on (disk)"
                losetup -d "$dev"; dev=""
        fi
else
        bench_target "$img" "image file"
fi
target=$img
echo
genjson=$(taskset -c 0 "$gen" 4 2>/dev/null || "$gen" 4)
genrate=$(echo "$genjson" | python3 -c "import json,sys; print('%.2f' % (json.load(sys.stdin)['bytes_per_second']/1e9))")

rss=$( { /usr/bin/time -f '%M' "$cli" wipe --force-image --no-ledger -q --method random+zero --verify full "$target" >/dev/null; } 2>&1 | tail -1)
rss8=$( { /usr/bin/time -f '%M' "$cli" wipe --force-image --no-ledger -q --io-size 8388608 --method random+zero --verify full "$target" >/dev/null; } 2>&1 | tail -1)
base=$( { /usr/bin/time -f '%M' "$cli" wipe --help >/dev/null; } 2>&1 | tail -1)

echo "- load average during the run: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
echo "- pattern generation, one core: $genrate GB/s"
echo "- peak RSS of the process: $((base / 1024)) MiB for 'mediagate wipe --help' (the libraries alone);"
echo "  a wipe (random+zero, full verify): $((rss / 1024)) MiB with 4 MiB requests (the wipe's own: $(((rss - base) / 1024)) MiB),"
echo "  $((rss8 / 1024)) MiB with 8 MiB requests (the wipe's own: $(((rss8 - base) / 1024)) MiB)"
