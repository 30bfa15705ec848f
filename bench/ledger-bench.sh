#!/usr/bin/env bash
# Ledger benchmark: durable appends per second on this machine's disk (SQLite WAL,
# synchronous=FULL, one transaction and one fsync per entry), and full verification time for
# 25,000 / 50,000 / 100,000 entries (must grow linearly).
# Usage: bench/ledger-bench.sh [BUILD_DIR] [SCRATCH_DIR]   (defaults: build, a fresh dir in /var/tmp)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
scratch=${2:-$(mktemp -d /var/tmp/mg-ledger-bench-XXXXXX)}
bin=$build/kiosk/mediagate-ledger-bench
[ -x "$bin" ] || cmake --build "$build" --target mediagate-ledger-bench
trap 'rm -rf "$scratch"' EXIT

echo "== machine: $(nproc) cores, $(uname -r), scratch on $(df -P "$scratch" | awk 'NR==2 {print $1}')"
echo "== durable appends (fsync per entry), 5 runs of 2000"
for run in 1 2 3 4 5; do
        "$bin" append "$scratch/append-$run" 2000
done
echo "== verify (entries built without fsync, then verified from the database; best of 3)"
for n in 25000 50000 100000; do
        "$bin" verify "$scratch/verify-$n" "$n"
        rm -rf "$scratch/verify-$n"
done
