#!/usr/bin/env bash
# Benchmark `mediagate scan` against `clamscan -r` (issue 5).
#
# Usage: bench/scan-vs-clamscan.sh [--quick] [--runs N] [--threads N] [--rebuild]
#                                  [--media "a b c c0"] [--dbs "tiny big"] [WORKDIR]
#
# Builds three media images with real tools (never mounting them for the scanner):
#   a  small files in a FAT32 image (20,000 files of 100 B - 64 KiB: text, binary, zips; mtools)
#   b  about 1 GiB of large files in an exFAT image (binaries, zip/7z/tar.gz archives, PDFs,
#      random data; filled through exfat-fuse on a loop device)
#   c  a 2 GiB FAT32 image that is mostly unallocated: a few files, and the free space filled with
#      random bytes by a big file that was then deleted
#   c0 the same as c with the free space never written (zeros, as on a new stick)
# and keeps the same files on local disk. Each medium also carries an EICAR file and clam.exe.
# Then, with two databases, the synthetic one from bench/make-sigdb.py (2.6 million signatures)
# and a tiny one (EICAR and clam.exe hashes made with sigtool), it measures --runs times each:
#   - clamscan -r over the local files (the peer's best case: no file system to parse), and
#     clamscan on one empty file: the engine load alone, subtracted to get its scan time;
#   - mediagate scan --json on the image (load_seconds, scan_seconds from its stats);
#   - an empty FAT image scanned by mediagate: its RSS with the loaded engine, the base for
#     "peak memory above the engine";
#   - cat IMG > /dev/null from the page cache: the floor.
# It prints the best of the runs for wall time and CPU time (user+sys) and the median peak RSS, from
# /usr/bin/time (the best, because the machine may be shared: noise only ever adds time), the ratios
# against the issue's targets, and checks that both tools find the EICAR file and clam.exe on every
# medium with both databases. --quick uses 2,000 files, 100 MiB and 256 MiB.
#
# Needs root (loop device and FUSE for exFAT). Environment: MEDIAGATE (the binary; default
# /work/wt-scan/build/kiosk/mediagate, else build/kiosk/mediagate of this tree), MEDIAGATE_REV (its
# revision, for the log, when the binary is a copy), CLAMSCAN.
# Results also go to WORKDIR/results.tsv and WORKDIR/results.md. Media are kept in WORKDIR and
# reused by later runs with the same sizes (--rebuild makes them again).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(dirname "$HERE")
QUICK=0
RUNS=3
THREADS=
REBUILD=0
WORKDIR=
MEDIA_LIST="a b c c0"
DB_LIST="tiny big"

usage() {
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
        case "$1" in
        --quick) QUICK=1 ;;
        --runs)
                RUNS=${2:?--runs needs a number}
                shift
                ;;
        --runs=*) RUNS=${1#--runs=} ;;
        --threads)
                THREADS=${2:?--threads needs a number}
                shift
                ;;
        --threads=*) THREADS=${1#--threads=} ;;
        --rebuild) REBUILD=1 ;;
        --media)
                MEDIA_LIST=${2:?--media needs a list}
                shift
                ;;
        --dbs)
                DB_LIST=${2:?--dbs needs a list}
                shift
                ;;
        -h | --help)
                usage
                exit 0
                ;;
        -*)
                echo "unknown option: $1" >&2
                usage >&2
                exit 64
                ;;
        *) WORKDIR=$1 ;;
        esac
        shift
done
for m in $MEDIA_LIST; do case "$m" in a | b | c | c0) ;; *)
        echo "--media: a list of a, b, c, c0" >&2
        exit 64
        ;;
esac; done
for d in $DB_LIST; do case "$d" in tiny | big) ;; *)
        echo "--dbs: a list of tiny, big" >&2
        exit 64
        ;;
esac; done
case "$RUNS" in '' | *[!0-9]* | 0)
        echo "--runs: a positive number" >&2
        exit 64
        ;;
esac
if [ -n "$THREADS" ]; then
        case "$THREADS" in *[!0-9]* | 0)
                echo "--threads: a positive number" >&2
                exit 64
                ;;
        esac
fi

if [ "$QUICK" = 1 ]; then
        A_COUNT=2000
        B_BYTES=$((100 << 20))
        C_BYTES=$((256 << 20))
        : "${WORKDIR:=/var/tmp/mediagate-bench-scan-quick}"
else
        A_COUNT=20000
        B_BYTES=$((1 << 30))
        C_BYTES=$((2 << 30))
        : "${WORKDIR:=/var/tmp/mediagate-bench-scan}"
fi

if [ -z "${MEDIAGATE:-}" ]; then
        for m in /work/wt-scan/build/kiosk/mediagate "$TOP/build/kiosk/mediagate"; do
                if [ -x "$m" ]; then
                        MEDIAGATE=$m
                        break
                fi
        done
fi
CLAMSCAN=${CLAMSCAN:-clamscan}
TESTFILES=/usr/share/clamav-testfiles
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
SIG_EICAR=Eicar-Test-Signature
SIG_CLAM=ClamAV-Test-File

die() {
        echo "scan-vs-clamscan: $*" >&2
        exit 1
}
log() { echo "== $*" >&2; }

[ -n "${MEDIAGATE:-}" ] && [ -x "$MEDIAGATE" ] || die "no mediagate binary (set MEDIAGATE)"
[ "$(id -u)" = 0 ] || die "run as root (loop device and FUSE build the exFAT medium)"
for c in "$CLAMSCAN" sigtool python3 mkfs.vfat mcopy mdel mdir mkfs.exfat fsck.exfat \
        mount.exfat-fuse fusermount losetup zip 7z tar /usr/bin/time; do
        command -v "$c" >/dev/null || die "missing tool: $c (see .ci/packages.d/bench.txt)"
done
[ -f "$TESTFILES/clam.exe" ] || die "missing $TESTFILES/clam.exe (package clamav-testfiles)"

mkdir -p "$WORKDIR"
WORKDIR=$(cd "$WORKDIR" && pwd)
MEDIA=$WORKDIR/media
FILES=$WORKDIR/files
DB=$WORKDIR/db
OUT=$WORKDIR/out
mkdir -p "$MEDIA" "$FILES" "$DB" "$OUT"

MNT=
LOOP=
cleanup() {
        if [ -n "$MNT" ] && mountpoint -q "$MNT"; then fusermount -u "$MNT" || true; fi
        if [ -n "$LOOP" ]; then losetup -d "$LOOP" || true; fi
}
trap cleanup EXIT

# Print the total apparent size of the files under a directory.
tree_bytes() { du -sb --apparent-size "$1" | cut -f1; }

# Round a byte count up to a whole MiB.
mib_up() { echo $((($1 + (1 << 20) - 1) / (1 << 20) * (1 << 20))); }

# Put the EICAR file and clam.exe into a directory.
plant() {
        mkdir -p "$1"
        printf '%s' "$EICAR" >"$1/eicar.com"
        cp "$TESTFILES/clam.exe" "$1/clam.exe"
}

# Is a medium built with these parameters already?
built() { [ "$REBUILD" = 0 ] && [ -f "$MEDIA/$1.img" ] && [ "$(cat "$MEDIA/$1.done" 2>/dev/null)" = "$2" ]; }

# Medium a: many small files on FAT32, copied with mtools.
build_a() {
        local key="a count=$A_COUNT v1"
        built a "$key" && return 0
        log "building medium a: $A_COUNT small files on FAT32"
        rm -rf "$FILES/a" "$MEDIA/a.img" "$MEDIA/a.done"
        python3 "$HERE/scan-mkfiles.py" small "$FILES/a" "$A_COUNT" >/dev/null
        plant "$FILES/a/planted"
        local bytes size
        bytes=$(tree_bytes "$FILES/a")
        size=$(mib_up $((bytes * 13 / 10 + (48 << 20))))
        truncate -s "$size" "$MEDIA/a.img"
        mkfs.vfat -F 32 -n BENCH-A "$MEDIA/a.img" >/dev/null
        mcopy -s -Q -i "$MEDIA/a.img" "$FILES/a"/* ::/
        fsck.vfat -n "$MEDIA/a.img" >"$OUT/fsck-a.txt" || die "fsck.vfat failed on a.img"
        echo "$key" >"$MEDIA/a.done"
}

# Wait until the exfat-fuse daemon for $LOOP has written everything and exited.
wait_fuse_exit() {
        local i
        for i in $(seq 1 600); do
                pgrep -f "exfat-fuse $LOOP " >/dev/null || return 0
                sleep 0.2
        done
        die "exfat-fuse on $LOOP did not exit"
}

# Medium b: about 1 GiB of large files on exFAT, filled through exfat-fuse on a loop device.
build_b() {
        local key="b bytes=$B_BYTES v2"
        built b "$key" && return 0
        log "building medium b: $((B_BYTES >> 20)) MiB of large files on exFAT"
        rm -rf "$FILES/b" "$MEDIA/b.img" "$MEDIA/b.done"
        python3 "$HERE/scan-mkfiles.py" large "$FILES/b" "$B_BYTES" >/dev/null
        plant "$FILES/b/planted"
        local bytes size
        bytes=$(tree_bytes "$FILES/b")
        size=$(mib_up $((bytes * 11 / 10 + (64 << 20))))
        truncate -s "$size" "$MEDIA/b.img"
        mkfs.exfat -L BENCH-B "$MEDIA/b.img" >/dev/null
        MNT=$WORKDIR/mnt
        mkdir -p "$MNT"
        LOOP=$(losetup -f --show "$MEDIA/b.img")
        mount.exfat-fuse "$LOOP" "$MNT" 2>/dev/null
        cp -r "$FILES/b"/. "$MNT"/
        fusermount -u "$MNT"
        wait_fuse_exit
        MNT=
        losetup -d "$LOOP"
        LOOP=
        fsck.exfat -n "$MEDIA/b.img" >"$OUT/fsck-b.txt" 2>&1 || die "fsck.exfat failed on b.img"
        echo "$key" >"$MEDIA/b.done"
}

# Medium c: a FAT32 image with a few files; its free space holds random bytes of a deleted file.
# Medium c0 (a variant): the same, with the free space never written (zeros, as on a new stick).
build_c() {
        local m=$1 key="$1 bytes=$C_BYTES v1"
        built "$m" "$key" && return 0
        rm -f "$MEDIA/$m.img" "$MEDIA/$m.done"
        if [ ! -f "$FILES/c/.done" ]; then
                rm -rf "$FILES/c"
                mkdir -p "$FILES/c/docs"
                plant "$FILES/c/planted"
                python3 "$HERE/scan-mkfiles.py" small "$FILES/c/docs" 20 --seed 7 >/dev/null
                touch "$FILES/c/.done"
        fi
        truncate -s "$C_BYTES" "$MEDIA/$m.img"
        mkfs.vfat -F 32 -n BENCH-C "$MEDIA/$m.img" >/dev/null
        mcopy -s -Q -i "$MEDIA/$m.img" "$FILES/c"/* ::/
        if [ "$m" = c0 ]; then
                log "building medium c0: $((C_BYTES >> 20)) MiB FAT32, mostly never-written free space"
                fsck.vfat -n "$MEDIA/c0.img" >"$OUT/fsck-c0.txt" || die "fsck.vfat failed on c0.img"
                echo "$key" >"$MEDIA/c0.done"
                return 0
        fi
        log "building medium c: $((C_BYTES >> 20)) MiB FAT32, mostly unallocated random data"
        local free fill
        free=$(mdir -i "$MEDIA/c.img" ::/ | sed -n 's/ bytes free//p' | tr -dc 0-9)
        [ -n "$free" ] || die "cannot read the free space of c.img"
        fill=$(((free - (4 << 20)) / (1 << 20) * (1 << 20)))
        python3 "$HERE/scan-mkfiles.py" random "$WORKDIR/fill.bin" "$fill" --seed 11 >/dev/null
        mcopy -i "$MEDIA/c.img" "$WORKDIR/fill.bin" ::/FILL.BIN
        mdel -i "$MEDIA/c.img" ::/FILL.BIN
        rm -f "$WORKDIR/fill.bin"
        fsck.vfat -n "$MEDIA/c.img" >"$OUT/fsck-c.txt" || die "fsck.vfat failed on c.img"
        echo "$key" >"$MEDIA/c.done"
}

# An empty FAT image: what mediagate costs with the engine loaded and nothing to scan.
build_empty() {
        [ -f "$MEDIA/empty.img" ] && return 0
        truncate -s 8M "$MEDIA/empty.img"
        mkfs.vfat -n EMPTY "$MEDIA/empty.img" >/dev/null
}

# The databases: the synthetic big one and a tiny one of the two test signatures (sigtool).
build_dbs() {
        if [ ! -s "$DB/big/bench.ndb" ] || ! cmp -s "$HERE/make-sigdb.py" "$DB/big/.made-by"; then
                log "writing the synthetic signature database"
                rm -rf "$DB/big"
                python3 "$HERE/make-sigdb.py" "$DB/big" >/dev/null
                cp "$HERE/make-sigdb.py" "$DB/big/.made-by"
        fi
        mkdir -p "$DB/tiny" "$DB/src"
        printf '%s' "$EICAR" >"$DB/src/eicar.com"
        cp "$TESTFILES/clam.exe" "$DB/src/clam.exe"
        {
                (cd "$DB/src" && sigtool --md5 eicar.com) | sed "s/:[^:]*\$/:$SIG_EICAR/"
                (cd "$DB/src" && sigtool --md5 clam.exe) | sed "s/:[^:]*\$/:$SIG_CLAM/"
        } >"$DB/tiny/tiny.hdb"
        [ "$(wc -l <"$DB/tiny/tiny.hdb")" = 2 ] || die "sigtool did not write two signatures"
        : >"$DB/empty-file"
}

# Read everything once so that every run starts from the page cache.
warm() {
        local p
        for p in "$@"; do
                if [ -d "$p" ]; then
                        find "$p" -type f -print0 | xargs -0 cat >/dev/null
                else
                        cat "$p" >/dev/null
                fi
        done
}

# Run a command under /usr/bin/time; print "wall cpu maxrss_kib rc" (stdout of the command to $1).
timed() {
        local out=$1
        shift
        local tf=$OUT/time.$$ rc=0
        /usr/bin/time -f '%e %U %S %M' -o "$tf" "$@" >"$out" 2>"$out.err" || rc=$?
        awk -v rc="$rc" 'END { printf "%.3f %.3f %d %d\n", $1, $2 + $3, $4, rc }' "$tf"
        rm -f "$tf"
}

# Print the smallest of the numbers given as arguments (best of the runs: the machine is shared).
least() { printf '%s\n' "$@" | sort -g | head -1; }

# Print the median of the numbers given as arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Print a field of mediagate's JSON report: stats.KEY, or "detections" (names, sorted, unique).
mg_json() {
        python3 - "$1" "$2" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
k = sys.argv[2]
if k == "detections":
    print(" ".join(sorted({x["name"].removesuffix(".UNOFFICIAL") for x in d.get("detections", [])})))
elif k == "verdict":
    print(d["verdict"])
else:
    print(d["stats"].get(k, "nan"))
EOF
}

# Print the detection names in clamscan's output (sorted, unique).
cs_detections() { sed -n 's/^.*: \(.*\) FOUND$/\1/p' "$1" | sed 's/\.UNOFFICIAL$//' | sort -u | xargs; }

CS_OPTS=(-r --no-summary --infected --allmatch=yes --heuristic-alerts=yes --alert-encrypted=yes
        --alert-exceeds-max=yes --max-filesize=100M --max-scansize=400M)
MG_OPTS=(scan --json --no-progress)
[ -n "$THREADS" ] && MG_OPTS+=(--threads "$THREADS")

TSV=$OUT/results.tsv
FAILS=0

# Record one measured row: case tool db wall cpu rss_kib load_wall scan_wall extra.
row() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$TSV"; }

# Check that a detection list holds both test signatures.
check_detect() {
        local what=$1 names=$2
        case " $names " in *" $SIG_EICAR "*) ;; *)
                echo "DETECTION FAILURE: $what did not find $SIG_EICAR (found: ${names:-nothing})" >&2
                FAILS=$((FAILS + 1))
                ;;
        esac
        case " $names " in *" $SIG_CLAM "*) ;; *)
                echo "DETECTION FAILURE: $what did not find $SIG_CLAM (found: ${names:-nothing})" >&2
                FAILS=$((FAILS + 1))
                ;;
        esac
}

# Measure clamscan's engine load: scan one empty file with the database.
measure_clamscan_load() {
        local db=$1 i w=() c=() rs=() r
        for i in $(seq 1 "$RUNS"); do
                read -r -a r <<<"$(timed "$OUT/cs-load-$db.out" "$CLAMSCAN" "${CS_OPTS[@]}" -d "$DB/$db" "$DB/empty-file")"
                [ "${r[3]}" = 0 ] || die "clamscan failed to load $db (status ${r[3]}): $(head -3 "$OUT/cs-load-$db.out.err")"
                w+=("${r[0]}") c+=("${r[1]}") rs+=("${r[2]}")
        done
        CS_LOAD_WALL[$db]=$(least "${w[@]}")
        CS_LOAD_CPU[$db]=$(least "${c[@]}")
        CS_LOAD_RSS[$db]=$(median "${rs[@]}")
        row load clamscan "$db" "${CS_LOAD_WALL[$db]}" "${CS_LOAD_CPU[$db]}" "${CS_LOAD_RSS[$db]}" "${CS_LOAD_WALL[$db]}" 0 -
}

# Measure mediagate on the empty image: the engine load and its resident size.
measure_mediagate_load() {
        local db=$1 i w=() c=() rs=() l=() r
        for i in $(seq 1 "$RUNS"); do
                read -r -a r <<<"$(timed "$OUT/mg-load-$db.json" "$MEDIAGATE" "${MG_OPTS[@]}" --db "$DB/$db" "$MEDIA/empty.img")"
                [ "${r[3]}" = 0 ] || die "mediagate failed on the empty image with $db (status ${r[3]}): $(head -3 "$OUT/mg-load-$db.json.err")"
                w+=("${r[0]}") c+=("${r[1]}") rs+=("${r[2]}")
                l+=("$(mg_json "$OUT/mg-load-$db.json" load_seconds)")
        done
        MG_LOAD_WALL[$db]=$(least "${l[@]}")
        MG_LOAD_RSS[$db]=$(median "${rs[@]}")
        row load mediagate "$db" "$(least "${w[@]}")" "$(least "${c[@]}")" "${MG_LOAD_RSS[$db]}" "${MG_LOAD_WALL[$db]}" 0 -
}

# Measure clamscan -r over a medium's files.
measure_clamscan() {
        local m=$1 db=$2 i w=() c=() rss=() r names
        for i in $(seq 1 "$RUNS"); do
                read -r -a r <<<"$(timed "$OUT/cs-$m-$db.out" "$CLAMSCAN" "${CS_OPTS[@]}" -d "$DB/$db" "$FILES/${m:0:1}")"
                case "${r[3]}" in 0 | 1) ;; *) die "clamscan failed on $m/$db (status ${r[3]}): $(head -3 "$OUT/cs-$m-$db.out.err")" ;; esac
                w+=("${r[0]}") c+=("${r[1]}") rss+=("${r[2]}")
        done
        names=$(cs_detections "$OUT/cs-$m-$db.out")
        check_detect "clamscan on $m with $db" "$names"
        local wall
        wall=$(least "${w[@]}")
        row "$m" clamscan "$db" "$wall" "$(least "${c[@]}")" "$(median "${rss[@]}")" \
                "${CS_LOAD_WALL[$db]}" "$(awk -v a="$wall" -v b="${CS_LOAD_WALL[$db]}" 'BEGIN { printf "%.3f", a - b }')" \
                "$(echo "$names" | tr ' ' ',')"
}

# Measure mediagate scan on a medium's image.
measure_mediagate() {
        local m=$1 db=$2 i w=() c=() rss=() l=() s=() br=() r names verdict
        for i in $(seq 1 "$RUNS"); do
                read -r -a r <<<"$(timed "$OUT/mg-$m-$db.json" "$MEDIAGATE" "${MG_OPTS[@]}" --db "$DB/$db" "$MEDIA/$m.img")"
                case "${r[3]}" in 0 | 1 | 2) ;; *) die "mediagate failed on $m/$db (status ${r[3]}): $(head -3 "$OUT/mg-$m-$db.json.err")" ;; esac
                w+=("${r[0]}") c+=("${r[1]}") rss+=("${r[2]}")
                l+=("$(mg_json "$OUT/mg-$m-$db.json" load_seconds)")
                s+=("$(mg_json "$OUT/mg-$m-$db.json" scan_seconds)")
                br+=("$(mg_json "$OUT/mg-$m-$db.json" bytes_read)")
        done
        names=$(mg_json "$OUT/mg-$m-$db.json" detections)
        verdict=$(mg_json "$OUT/mg-$m-$db.json" verdict)
        check_detect "mediagate on $m with $db" "$names"
        row "$m" mediagate "$db" "$(least "${w[@]}")" "$(least "${c[@]}")" "$(median "${rss[@]}")" \
                "$(least "${l[@]}")" "$(least "${s[@]}")" \
                "verdict=$verdict,bytes_read=$(median "${br[@]}"),$(echo "$names" | tr ' ' ',')"
}

# Measure the plain read of an image from the page cache: the floor.
measure_floor() {
        local m=$1 i w=() r
        for i in $(seq 1 "$RUNS"); do
                read -r -a r <<<"$(timed "$OUT/cat-$m.out" sh -c 'cat "$1" >/dev/null' sh "$MEDIA/$m.img")"
                w+=("${r[0]}")
        done
        FLOOR[$m]=$(least "${w[@]}")
        row "$m" cat-image - "${FLOOR[$m]}" - - 0 "${FLOOR[$m]}" "bytes=$(stat -c %s "$MEDIA/$m.img")"
}

declare -A CS_LOAD_WALL CS_LOAD_CPU CS_LOAD_RSS MG_LOAD_WALL MG_LOAD_RSS FLOOR

build_dbs
case " $MEDIA_LIST " in *" a "*) build_a ;; esac
case " $MEDIA_LIST " in *" b "*) build_b ;; esac
for m in $MEDIA_LIST; do
        case "$m" in c | c0) build_c "$m" ;; esac
done
build_empty

: >"$TSV"
log "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
        "$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
log "mediagate: $MEDIAGATE (${MEDIAGATE_REV:-$(git -C "$(dirname "$MEDIAGATE")" log -1 --format=%h 2>/dev/null || echo ?)}); clamscan: $("$CLAMSCAN" --version)"
for m in $MEDIA_LIST; do
        log "medium $m: $(stat -c %s "$MEDIA/$m.img") bytes image, $(find "$FILES/${m:0:1}" -type f | wc -l) files, $(tree_bytes "$FILES/${m:0:1}") bytes of files"
done
warm "$MEDIA"/*.img "$FILES" "$DB"
for m in $MEDIA_LIST; do measure_floor "$m"; done
for db in $DB_LIST; do
        log "database $db: engine load"
        measure_clamscan_load "$db"
        measure_mediagate_load "$db"
        for m in $MEDIA_LIST; do
                log "database $db, medium $m: clamscan x$RUNS, mediagate x$RUNS"
                measure_clamscan "$m" "$db"
                measure_mediagate "$m" "$db"
        done
done

# Report: one table of medians and the ratios against the issue's targets.
python3 - "$TSV" "$RUNS" "$(nproc)" >"$OUT/results.md" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
runs, ncpu = sys.argv[2], sys.argv[3]
get = {(r[0], r[1], r[2]): r for r in rows}
f = lambda x: float(x) if x not in ("-", "", "nan") else float("nan")
MiB = 1024.0
print("Best (least) of %s runs for times, median for memory; %s cores. Wall and CPU (user+sys) in seconds," % (runs, ncpu))
print("RSS = peak resident set (MiB) from /usr/bin/time.")
print("'scan' = wall time without engine load (mediagate: stats.scan_seconds; clamscan: wall minus the")
print("wall time of scanning one empty file with the same database).\n")
print("| medium | db | tool | wall | CPU | peak RSS | load | scan | notes |")
print("|---|---|---|---:|---:|---:|---:|---:|---|")
for r in rows:
    case, tool, db, wall, cpu, rss, load, scan, extra = r
    rs = "%.0f" % (f(rss) / MiB) if rss != "-" else "-"
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (case, db, tool, wall, cpu, rs, load, scan, extra))
print("\n| medium | db | wall ratio mg/cs | scan ratio mg/cs (target <= 0.6 on a, b) | CPU ratio mg/cs "
      "| mg scan / plain read (target <= 2 on c) | mg RSS above engine MiB (target <= 256) |")
print("|---|---|---:|---:|---:|---:|---:|")
for db in ("tiny", "big"):
    if ("load", "mediagate", db) not in get:
        continue
    base = f(get[("load", "mediagate", db)][5]) / MiB
    for m in ("a", "b", "c", "c0"):
        if (m, "mediagate", db) not in get:
            continue
        mg, cs, fl = get[(m, "mediagate", db)], get[(m, "clamscan", db)], get[(m, "cat-image", "-")]
        wall_r = f(mg[3]) / f(cs[3])
        scan_r = f(mg[7]) / f(cs[7]) if f(cs[7]) > 0 else float("inf")
        cpu_r = f(mg[4]) / f(cs[4])
        read_r = f(mg[7]) / f(fl[3]) if f(fl[3]) > 0 else float("inf")
        above = f(mg[5]) / MiB - base
        ok = lambda c: "" if c else " **(miss)**"
        scan_s = "%.2f%s" % (scan_r, ok(scan_r <= 0.6) if m in "ab" else "")
        read_s = "%.1f%s" % (read_r, ok(read_r <= 2) if m.startswith("c") else "")
        print("| %s | %s | %.2f | %s | %.2f | %s | %.0f%s |" % (m, db, wall_r, scan_s, cpu_r, read_s, above, ok(above <= 256)))
EOF
cat "$OUT/results.md"
if [ "$FAILS" -gt 0 ]; then
        echo "scan-vs-clamscan: $FAILS detection failures (see above)" >&2
        exit 1
fi
