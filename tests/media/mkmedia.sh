#!/bin/bash
# Build one test medium for the scan engine with real tools: mkmedia.sh CASE OUTDIR
# writes OUTDIR/CASE.img. `mkmedia.sh --list` prints every case name. The expected
# verdict and detections of each case are in cases.tsv next to this script; what
# each case holds and why is in README.md. Nothing here mounts a file system except
# the exfat case (exfat-fuse on a loop device) and ntfs-tree (ntfs-3g on the image file):
# those two need root and FUSE and exit 77 ("SKIP: ...") otherwise.
set -euo pipefail
export LC_ALL=C.UTF-8 MTOOLS_SKIP_CHECK=1 SOURCE_DATE_EPOCH=1700000000
umask 022

EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
TESTFILES=${MG_CLAMAV_TESTFILES:-/usr/share/clamav-testfiles}
CLAMEXE=$TESTFILES/clam.exe

CASES=(fat32-mbr mbr-extended gpt superfloppy-fat fat12-floppy exfat exfat-bitmap ntfs-ads
  ntfs-tree ext2 ext3 ext4 iso9660 hfsplus hfsplus-gpt fat-deleted fat-deleted-dir ext4-deleted unalloc-pe
  gap-pe boot-mbr boot-vbr unknown-fs unknown-device unknown-fs-clean bad-table
  mixed-unreadable deep-tree long-names zero-and-large sparse-beyond-volume archives
  encrypted-zip encrypted-pdf rar zip-bomb zip-bomb-flat zip-nested luks2 luks1 random-volume
  clean-fat clean-gpt-multi)

die() {
  echo "mkmedia: $*" >&2
  exit 1
}

skip() {
  echo "SKIP: $*"
  exit 77
}

# Write the 68-byte EICAR test file (no newline) to $1.
eicar() { printf '%s' "$EICAR" >"$1"; }

# Write a small clean text file with content $2 to $1.
clean() { printf '%s\n' "${2:-clean test file for mediagate}" >"$1"; }

# Create an empty (sparse) file $1 of $2 MiB.
blank() {
  rm -f "$1"
  truncate -s "$2M" "$1"
}

# Make a FAT file system image $1 of $2 MiB, FAT bits $3 (12|16|32), label $4.
mkfat() {
  blank "$1" "$2"
  mkfs.vfat -F "$3" -n "$4" -i 4d474154 "$1" >/dev/null
}

# Copy the contents of directory $2 into the root of FAT image $1 (long names kept).
fatfill() {
  local f
  shopt -s nullglob dotglob
  for f in "$2"/*; do
    mcopy -s -Q -i "$1" "$f" ::/
  done
  shopt -u nullglob dotglob
}

# Make an ext2/3/4 image $1 of $2 MiB, type $3, from directory $4.
mkext() {
  rm -f "$1"
  mke2fs -q -F -t "$3" -b 1024 -L "mg$3" -U 6d656469-6167-6174-6500-000000000001 -E root_owner=0:0 \
    -d "$4" "$1" "$2M" >/dev/null
}

# Make an NTFS image $1 of $2 MiB whose partition starts at sector $3.
mkntfs_img() {
  blank "$1" "$2"
  mkfs.ntfs -q -F -f -p "$3" -L mgntfs "$1" >/dev/null 2>&1 || die "mkfs.ntfs failed"
}

# Copy local file $2 into NTFS image $1 as $3 (its directory must exist).
ntfsput() { ntfscp -q "$1" "$2" "$3" >/dev/null; }

# Create disk image $1 of $2 MiB and partition it with the sfdisk script on stdin.
mkdisk() {
  blank "$1" "$2"
  sfdisk -q --no-reread --no-tell-kernel "$1" >/dev/null
}

# Copy image $3 into disk image $1 at sector $2 (sparse, the disk keeps its size).
put() {
  dd if="$3" of="$1" bs=1M seek=$(($2 * 512)) oflag=seek_bytes conv=notrunc,sparse status=none
}

# Write the bytes of file $3 into image $1 at byte offset $2.
poke_file() {
  dd if="$3" of="$1" bs=64K seek="$2" oflag=seek_bytes conv=notrunc status=none
}

# Write EICAR into image $1 at byte offset $2.
poke_eicar() {
  eicar "$W/.eicar"
  poke_file "$1" "$2" "$W/.eicar"
}

# Print the byte offset of cluster $2 (FAT12/16/32 image $1), after checking that the
# cluster is free in the first FAT.
fat_cluster_offset() {
  python3 - "$1" "$2" <<'EOF'
import struct, sys
img, cl = sys.argv[1], int(sys.argv[2])
with open(img, 'rb') as f:
    bs = f.read(512)
    bps, spc, rsv, nfats, rootents, tot16, _, fat16 = struct.unpack_from('<HBHBHHBH', bs, 11)
    tot32, = struct.unpack_from('<I', bs, 32)
    fat32, = struct.unpack_from('<I', bs, 36)
    fatsz = fat16 or fat32
    root_secs = (rootents * 32 + bps - 1) // bps
    data = rsv + nfats * fatsz + root_secs
    nclus = ((tot16 or tot32) - data) // spc
    assert 2 <= cl < nclus + 2, 'cluster out of range'
    f.seek(rsv * bps)
    fat = f.read(fatsz * bps)
    if nclus < 4085:
        v = struct.unpack_from('<H', fat, cl * 3 // 2)[0]
        v = v >> 4 if cl & 1 else v & 0xfff
    elif fat16:
        v = struct.unpack_from('<H', fat, cl * 2)[0]
    else:
        v = struct.unpack_from('<I', fat, cl * 4)[0] & 0x0fffffff
    assert v == 0, 'cluster %d is in use' % cl
    print((data + (cl - 2) * spc) * bps)
EOF
}

# Print the number of data clusters of FAT image $1.
fat_clusters() {
  python3 - "$1" <<'EOF'
import struct, sys
with open(sys.argv[1], 'rb') as f:
    bs = f.read(512)
bps, spc, rsv, nfats, rootents, tot16, _, fat16 = struct.unpack_from('<HBHBHHBH', bs, 11)
tot32, = struct.unpack_from('<I', bs, 32)
fat32, = struct.unpack_from('<I', bs, 36)
data = rsv + nfats * (fat16 or fat32) + (rootents * 32 + bps - 1) // bps
print(((tot16 or tot32) - data) // spc)
EOF
}

# A small tree of clean files in directory $1.
clean_tree() {
  mkdir -p "$1/docs" "$1/photos"
  clean "$1/docs/readme.txt" "Quarterly report draft"
  clean "$1/docs/notes.txt" "Meeting notes, nothing to see"
  head -c 20000 /dev/zero | tr '\0' 'A' >"$1/photos/big-a.raw"
  printf 'P1\n2 2\n0 1\n1 0\n' >"$1/photos/tiny.pbm"
}

# --- the cases --------------------------------------------------------------

case_fat32-mbr() {
  local s=$W/s
  clean_tree "$s"
  mkdir -p "$s/Downloads/tools/old"
  eicar "$s/Downloads/tools/old/eicar.com"
  clean "$s/Downloads/tools/setup-notes.txt"
  eicar "$s/SYSFILE.BIN"
  mkfat "$W/p1" 36 32 MGFAT32
  fatfill "$W/p1" "$s"
  mattrib -i "$W/p1" +h +s ::/SYSFILE.BIN
  printf 'label: dos\nstart=2048, size=73728, type=c, bootable\n' | mkdisk "$IMG" 40
  put "$IMG" 2048 "$W/p1"
}

case_mbr-extended() {
  mkdir -p "$W/a" "$W/b" "$W/c/home/user"
  clean_tree "$W/a"
  clean "$W/b/LOGICAL1.TXT" "first logical partition"
  clean "$W/c/home/user/todo.txt" "second logical partition"
  eicar "$W/c/home/user/eicar.com"
  mkfat "$W/p1" 16 16 MGPRIM
  fatfill "$W/p1" "$W/a"
  mkfat "$W/p5" 4 12 MGLOG1
  fatfill "$W/p5" "$W/b"
  mkext "$W/p6" 8 ext2 "$W/c"
  mkdisk "$IMG" 40 <<'EOF'
label: dos
start=2048, size=32768, type=6
start=36864, size=45056, type=5
start=38912, size=8192, type=1
start=49152, size=16384, type=83
EOF
  put "$IMG" 2048 "$W/p1"
  put "$IMG" 38912 "$W/p5"
  put "$IMG" 49152 "$W/p6"
}

case_gpt() {
  mkdir -p "$W/a" "$W/b" "$W/c"
  clean_tree "$W/a"
  clean_tree "$W/b"
  clean "$W/c/report.txt" "NTFS clean file"
  eicar "$W/c/eicar.com"
  mkfat "$W/p1" 34 32 MGGPTFAT
  fatfill "$W/p1" "$W/a"
  mkext "$W/p2" 8 ext4 "$W/b"
  mkntfs_img "$W/p3" 8 90112
  ntfsput "$W/p3" "$W/c/report.txt" /report.txt
  ntfsput "$W/p3" "$W/c/eicar.com" /eicar.com
  mkdisk "$IMG" 56 <<'EOF'
label: gpt
start=2048, size=69632, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="fat32"
start=71680, size=16384, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="ext4"
start=90112, size=16384, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="ntfs"
EOF
  put "$IMG" 2048 "$W/p1"
  put "$IMG" 71680 "$W/p2"
  put "$IMG" 90112 "$W/p3"
}

case_superfloppy-fat() {
  clean_tree "$W/s"
  eicar "$W/s/EICAR.COM"
  mkfat "$IMG" 16 16 MGFLOPPY
  fatfill "$IMG" "$W/s"
}

# A 1.44 MB floppy image: FAT12 on the whole device.
case_fat12-floppy() {
  clean "$W/README.TXT" "a floppy"
  eicar "$W/GAME.EXE"
  rm -f "$IMG"
  truncate -s 1440K "$IMG"
  mkfs.vfat -F 12 -n MGFLOPPY -i 4d474154 "$IMG" >/dev/null
  mcopy -Q -i "$IMG" "$W/README.TXT" "$W/GAME.EXE" ::/
}

# Build an exFAT image $W/p1 (16 MiB) from directory $W/s through exfat-fuse.
exfat_build() {
  [ "$(id -u)" = 0 ] || skip "needs root (exfat-fuse on a loop device)"
  [ -e /dev/fuse ] || skip "needs /dev/fuse"
  command -v mount.exfat-fuse >/dev/null || skip "needs exfat-fuse"
  blank "$W/p1" 16
  mkfs.exfat -L MGEXFAT "$W/p1" >/dev/null
  local loop mnt=$W/mnt
  mkdir -p "$mnt"
  loop=$(losetup -f --show "$W/p1") || skip "needs a loop device"
  LOOP=$loop
  # exfat-fuse refuses a regular file as root ("Block device required"): use the loop device.
  if ! timeout 30 mount.exfat-fuse -o noatime "$loop" "$mnt" >/dev/null 2>&1; then
    losetup -d "$loop"
    LOOP=
    skip "exfat-fuse mount failed (no FUSE here)"
  fi
  MNT=$mnt
  cp -r "$W/s/." "$mnt/"
  sync
  umount "$mnt"
  MNT=
  sync
  losetup -d "$loop"
  LOOP=
}

case_exfat() {
  clean_tree "$W/s"
  mkdir -p "$W/s/Projects/2024"
  eicar "$W/s/Projects/2024/eicar.com"
  exfat_build
  printf 'label: dos\nstart=2048, size=32768, type=7\n' | mkdisk "$IMG" 20
  put "$IMG" 2048 "$W/p1"
}

# exFAT whose allocation-bitmap entry gives a length rounded up to a whole cluster (4096
# instead of ceil(clusters / 8) = 448), as on some manufacturer-formatted sticks: libtsk
# 4.11 does not recognise the volume, so the EICAR inside must be found by a raw scan.
case_exfat-bitmap() {
  clean_tree "$W/s"
  eicar "$W/s/setup.exe"
  exfat_build
  python3 - "$W/p1" <<'EOF'
import struct, sys
with open(sys.argv[1], 'r+b') as f:
    bs = f.read(512)
    heap, root = struct.unpack_from('<I', bs, 88)[0], struct.unpack_from('<I', bs, 96)[0]
    bps, csz = 1 << bs[108], 1 << (bs[108] + bs[109])
    off = heap * bps + (root - 2) * csz
    f.seek(off)
    d = f.read(csz)
    for i in range(0, csz, 32):
        if d[i] == 0x81:  # allocation bitmap directory entry: DataLength at +24
            n = struct.unpack_from('<Q', d, i + 24)[0]
            f.seek(off + i + 24)
            f.write(struct.pack('<Q', (n + csz - 1) // csz * csz))
            break
    else:
        sys.exit('no allocation bitmap entry')
EOF
  printf 'label: dos\nstart=2048, size=32768, type=7\n' | mkdisk "$IMG" 20
  put "$IMG" 2048 "$W/p1"
}

case_ntfs-ads() {
  clean "$W/notes.txt" "An innocent text file with an alternate data stream."
  clean "$W/other.txt" "Another clean file"
  eicar "$W/e"
  mkntfs_img "$W/p1" 10 2048
  ntfsput "$W/p1" "$W/notes.txt" /notes.txt
  ntfsput "$W/p1" "$W/other.txt" /other.txt
  ntfscp -q -N payload "$W/p1" "$W/e" /notes.txt >/dev/null
  printf 'label: dos\nstart=2048, size=20480, type=7\n' | mkdisk "$IMG" 12
  put "$IMG" 2048 "$W/p1"
}

# NTFS filled through ntfs-3g (FUSE, on the image file itself: root only): nested
# directories, and a deleted EICAR (its MFT record keeps name and resident data).
case_ntfs-tree() {
  [ "$(id -u)" = 0 ] || skip "needs root (ntfs-3g FUSE mount)"
  [ -e /dev/fuse ] || skip "needs /dev/fuse"
  command -v ntfs-3g >/dev/null || skip "needs ntfs-3g"
  mkntfs_img "$W/p1" 12 2048
  local mnt=$W/mnt
  mkdir -p "$mnt"
  timeout 30 ntfs-3g "$W/p1" "$mnt" >/dev/null 2>&1 || skip "ntfs-3g mount failed (no FUSE here)"
  MNT=$mnt
  mkdir -p "$mnt/Users/alice/Documents/Reports/2024" "$mnt/Users/alice/Desktop"
  clean_tree "$mnt/Users/alice/Documents"
  eicar "$mnt/Users/alice/Documents/Reports/2024/q3.exe"
  eicar "$mnt/Users/alice/Desktop/old-invoice.com"
  clean "$mnt/Users/alice/Desktop/todo.txt" "clean"
  sync
  rm "$mnt/Users/alice/Desktop/old-invoice.com"
  umount "$mnt"
  MNT=
  printf 'label: dos\nstart=2048, size=24576, type=7\n' | mkdisk "$IMG" 14
  put "$IMG" 2048 "$W/p1"
}

# ext2/ext3/ext4 on the whole device (no table), EICAR two levels down.
ext_case() {
  clean_tree "$W/s"
  mkdir -p "$W/s/var/cache"
  eicar "$W/s/var/cache/eicar.com"
  mkext "$IMG" 8 "$1" "$W/s"
}
case_ext2() { ext_case ext2; }
case_ext3() { ext_case ext3; }
case_ext4() { ext_case ext4; }

case_iso9660() {
  clean_tree "$W/s"
  mkdir -p "$W/s/software/drivers"
  eicar "$W/s/software/drivers/eicar.com"
  xorriso -as mkisofs -quiet -R -J -V MGISO -o "$IMG" "$W/s" >/dev/null 2>&1
}

case_hfsplus() {
  clean_tree "$W/s"
  mkdir -p "$W/s/mac"
  eicar "$W/s/mac/eicar.com"
  clean "$W/s/mac/readme.txt" "visible everywhere"
  # The EICAR file is hidden from the ISO9660 and Joliet trees: only HFS+ shows it.
  xorriso -as mkisofs -quiet -R -J -hfsplus -V MGHFS -hide "$W/s/mac/eicar.com" -hide-joliet "$W/s/mac/eicar.com" \
    -o "$IMG" "$W/s" >/dev/null 2>&1
}

# HFS+ alone, as on a Mac-formatted stick: the HFS+ volume of an xorriso hybrid, cut out
# at its Apple_HFS partition (its block addresses are relative to that start and its files'
# data follow it), in a GPT partition of type Apple HFS+.
case_hfsplus-gpt() {
  clean_tree "$W/s"
  mkdir -p "$W/s/Library/Caches"
  eicar "$W/s/Library/Caches/updater.app"
  xorriso -as mkisofs -quiet -R -hfsplus -V MGHFS2 -o "$W/hyb.img" "$W/s" >/dev/null 2>&1
  local start
  start=$(python3 - "$W/hyb.img" <<'EOF'
import struct, sys
with open(sys.argv[1], 'rb') as f:
    ddm = f.read(512)
    bs = struct.unpack_from('>H', ddm, 2)[0] if ddm[:2] == b'ER' else 512
    for i in range(1, 64):
        f.seek(i * bs)
        e = f.read(512)
        if e[:2] != b'PM':
            break
        if e[48:80].rstrip(b'\0') == b'Apple_HFS':
            print(struct.unpack_from('>I', e, 8)[0] * bs)
            break
EOF
  )
  [ -n "$start" ] || die "no Apple_HFS partition in the xorriso image"
  dd if="$W/hyb.img" of="$W/p1" bs=512 skip=$((start / 512)) status=none
  mkdisk "$IMG" 4 <<'EOF'
label: gpt
start=2048, size=4096, type=48465300-0000-11AA-AA11-00306543ECAC, name="Macintosh HD"
EOF
  put "$IMG" 2048 "$W/p1"
}

case_fat-deleted() {
  clean_tree "$W/s"
  eicar "$W/s/invoice.com"
  mkfat "$W/p1" 16 16 MGDELETE
  fatfill "$W/p1" "$W/s"
  mdel -i "$W/p1" ::/invoice.com
  printf 'label: dos\nstart=2048, size=32768, type=6\n' | mkdisk "$IMG" 20
  put "$IMG" 2048 "$W/p1"
}

case_fat-deleted-dir() {
  clean_tree "$W/s"
  mkdir -p "$W/s/Old/Reports"
  eicar "$W/s/Old/Reports/invoice.com"
  clean "$W/s/Old/Reports/summary.txt" "quarterly summary"
  mkfat "$W/p1" 16 16 MGDELDIR
  fatfill "$W/p1" "$W/s"
  # the whole tree goes, and empty files (no clusters) take over the free root entries: the
  # tree's entries are left only in unallocated clusters, which only libtsk's orphan search
  # (a read of every sector) turns back into files
  mdeltree -i "$W/p1" ::/Old
  : >"$W/empty"
  local i
  for i in 1 2 3 4 5 6 7 8; do mcopy -Q -i "$W/p1" "$W/empty" "::/NEW$i.TXT"; done
  printf 'label: dos\nstart=2048, size=32768, type=6\n' | mkdisk "$IMG" 20
  put "$IMG" 2048 "$W/p1"
}

case_ext4-deleted() {
  clean_tree "$W/s"
  mkdir -p "$W/s/tmp"
  eicar "$W/s/tmp/eicar.com"
  mkext "$W/p1" 8 ext4 "$W/s"
  local ino
  ino=$(debugfs -R "stat /tmp/eicar.com" "$W/p1" 2>/dev/null | awk '/^Inode:/ {print $2; exit}')
  [ -n "$ino" ] || die "debugfs stat failed"
  # rm frees the blocks; clri wipes the inode so no file (live or deleted) points at them.
  debugfs -w -R "rm /tmp/eicar.com" "$W/p1" >/dev/null 2>&1
  debugfs -w -R "clri <$ino>" "$W/p1" >/dev/null 2>&1
  printf 'label: dos\nstart=2048, size=16384, type=83\n' | mkdisk "$IMG" 10
  put "$IMG" 2048 "$W/p1"
}

case_unalloc-pe() {
  clean_tree "$W/s"
  mkfat "$W/p1" 16 16 MGUNALLOC
  fatfill "$W/p1" "$W/s"
  local n off
  n=$(fat_clusters "$W/p1")
  off=$(fat_cluster_offset "$W/p1" $((n - 60)))
  poke_file "$W/p1" "$off" "$CLAMEXE"
  off=$(fat_cluster_offset "$W/p1" $((n - 20)))
  poke_eicar "$W/p1" "$off"
  printf 'label: dos\nstart=2048, size=32768, type=6\n' | mkdisk "$IMG" 20
  put "$IMG" 2048 "$W/p1"
}

case_gap-pe() {
  clean_tree "$W/a"
  mkdir -p "$W/b"
  clean "$W/b/SECOND.TXT" "second partition"
  mkfat "$W/p1" 8 12 MGGAP1
  fatfill "$W/p1" "$W/a"
  mkfat "$W/p2" 4 12 MGGAP2
  fatfill "$W/p2" "$W/b"
  # Layout: [0] MBR, [1..4095] gap with EICAR and clam.zip, [4096..20479] p1,
  # [20480..24575] gap with clam.exe, [24576..32767] p2, [32768..] tail gap with EICAR.
  mkdisk "$IMG" 20 <<'EOF'
label: dos
start=4096, size=16384, type=1
start=24576, size=8192, type=1
EOF
  put "$IMG" 4096 "$W/p1"
  put "$IMG" 24576 "$W/p2"
  poke_eicar "$IMG" $((1000 * 512))
  poke_file "$IMG" $((3000 * 512)) "$TESTFILES/clam.zip"
  poke_file "$IMG" $((21504 * 512)) "$CLAMEXE"
  poke_eicar "$IMG" $((36000 * 512 + 100))
}

case_boot-mbr() {
  clean_tree "$W/s"
  mkfat "$W/p1" 16 16 MGBOOT
  fatfill "$W/p1" "$W/s"
  printf 'label: dos\nstart=2048, size=32768, type=6\n' | mkdisk "$IMG" 20
  put "$IMG" 2048 "$W/p1"
  poke_eicar "$IMG" 16
}

case_boot-vbr() {
  clean_tree "$W/s"
  mkfat "$W/p1" 34 32 MGVBR
  fatfill "$W/p1" "$W/s"
  # FAT32 boot code area: bytes 90..509 of the volume boot record.
  poke_eicar "$W/p1" 100
  printf 'label: dos\nstart=2048, size=69632, type=c\n' | mkdisk "$IMG" 36
  put "$IMG" 2048 "$W/p1"
}

case_unknown-fs() {
  printf 'label: dos\nstart=2048, size=16384, type=83\n' | mkdisk "$IMG" 10
  poke_eicar "$IMG" $((2048 * 512 + 3 * 1048576 + 777))
}

# No partition table and no file system: 8 MiB of zeros with EICAR at 5 MiB + 123.
case_unknown-device() {
  blank "$IMG" 8
  poke_eicar "$IMG" $((5 * 1048576 + 123))
}

# An MBR whose second entry runs far past the end of the 10 MiB device (libtsk's mmls
# lists it without complaint); the first partition is a clean FAT16.
case_bad-table() {
  clean_tree "$W/s"
  mkfat "$W/p1" 4 12 MGBADTBL
  fatfill "$W/p1" "$W/s"
  printf 'label: dos\nstart=2048, size=8192, type=6\n' | mkdisk "$IMG" 10
  put "$IMG" 2048 "$W/p1"
  python3 - "$IMG" <<'EOF'
import struct, sys
with open(sys.argv[1], 'r+b') as f:
    f.seek(446 + 16)  # entry 2: type 0x83, start 16384, 100000 sectors (device: 20480)
    f.write(bytes([0, 0xfe, 0xff, 0xff, 0x83, 0xfe, 0xff, 0xff]) + struct.pack('<II', 16384, 100000))
EOF
}

case_unknown-fs-clean() {
  printf 'label: dos\nstart=2048, size=16384, type=83\n' | mkdisk "$IMG" 10
}

case_mixed-unreadable() {
  clean_tree "$W/a"
  clean_tree "$W/b"
  mkfat "$W/p1" 16 16 MGMIXED
  fatfill "$W/p1" "$W/a"
  mkext "$W/p2" 8 ext4 "$W/b"
  # Wipe the ext4 superblock (bytes 1024..2047): the partition is clean data that no
  # parser can read any more.
  dd if=/dev/zero of="$W/p2" bs=1024 seek=1 count=1 conv=notrunc status=none
  mkdisk "$IMG" 28 <<'EOF'
label: dos
start=2048, size=32768, type=6
start=36864, size=16384, type=83
EOF
  put "$IMG" 2048 "$W/p1"
  put "$IMG" 36864 "$W/p2"
}

case_deep-tree() {
  local d=$W/s i
  mkdir -p "$d"
  clean "$d/top.txt" "top"
  for ((i = 1; i <= 150; i++)); do
    d=$d/$(printf 'l%03d' "$i")
    mkdir "$d"
    [ "$i" = 5 ] && eicar "$d/eicar5.com"
    [ "$i" = 100 ] && clean "$d/clean100.txt" "clean at depth 100"
  done
  eicar "$d/eicar150.com"
  mkext "$IMG" 8 ext4 "$W/s"
}

case_long-names() {
  local a=$W/a s=$W/s long255 mb
  mkdir -p "$a" "$s"
  long255=$(printf 'n%.0s' {1..251}).txt
  mb=$(printf '\xe6\x96\x87%.0s' {1..83})-a.txt # 83 x U+6587 (3 bytes) + "-a.txt": 255 bytes
  clean "$s/$long255" "255-byte ASCII name"
  eicar "$s/$mb"
  mkdir -p "$s/Ünïcødé-目录"
  eicar "$s/Ünïcødé-目录/文件-😀.com"
  clean "$s/line"$'\n'"break.txt" "newline in the name"
  eicar "$s/evil"$'\n\x1b''[31mred'$'\xe2\x80\xae''gpj.exe'
  # FAT long file names: 255 UTF-16 units (EICAR; libtsk 4.11 returns only the first 247
  # characters of it), 200 units (clean), and a multibyte UTF-8 name with EICAR.
  eicar "$a/$(printf 'a%.0s' {1..251}).com"
  clean "$a/$(printf 'f%.0s' {1..196}).txt" "long FAT name"
  eicar "$a/Привет-мир-ファイル.com"
  mkfat "$W/p1" 16 16 MGLONG
  fatfill "$W/p1" "$a"
  mkext "$W/p2" 8 ext4 "$s"
  mkdisk "$IMG" 28 <<'EOF'
label: dos
start=2048, size=32768, type=6
start=36864, size=16384, type=83
EOF
  put "$IMG" 2048 "$W/p1"
  put "$IMG" 36864 "$W/p2"
}

case_zero-and-large() {
  local s=$W/s
  mkdir -p "$s/empty-dir"
  : >"$s/zero1.bin"
  : >"$s/empty-dir/zero2.txt"
  clean "$s/small.txt" "small"
  truncate -s 150M "$s/big.bin"
  poke_eicar "$s/big.bin" $((130 * 1048576))
  # mke2fs -d keeps the holes: the 200 MiB image stays sparse (about 3 MiB on disk).
  mkext "$IMG" 200 ext4 "$s"
}

# A sparse file larger than its file system: libtsk 4.11 checks hole runs against the
# volume size and stops reading at 16 MiB ("Invalid address in run (too large)"), so the
# EICAR block at 130 MiB (a real, allocated block) is not returned by tsk_fs_file_read.
case_sparse-beyond-volume() {
  local s=$W/s
  mkdir -p "$s"
  clean "$s/small.txt" "small"
  truncate -s 150M "$s/sparse.bin"
  poke_eicar "$s/sparse.bin" $((130 * 1048576))
  mkext "$IMG" 16 ext4 "$s"
}

case_archives() {
  mkdir -p "$W/s/testfiles"
  cp "$TESTFILES"/* "$W/s/testfiles/"
  clean "$W/s/readme.txt" "ClamAV test files from Debian's clamav-testfiles"
  mkext "$IMG" 24 ext4 "$W/s"
}

case_encrypted-zip() {
  mkdir -p "$W/z" "$W/s"
  clean "$W/z/letter.txt" "A clean letter inside an encrypted zip."
  (cd "$W/z" && zip -q -P s3cret "$W/s/private.zip" letter.txt)
  clean "$W/s/readme.txt" "clean"
  mkfat "$W/p1" 16 16 MGZIPENC
  fatfill "$W/p1" "$W/s"
  printf 'label: dos\nstart=2048, size=32768, type=6\n' | mkdisk "$IMG" 20
  put "$IMG" 2048 "$W/p1"
}

# Write a minimal one-page PDF with a line of text to $1.
mkpdf() {
  python3 - "$1" <<'EOF'
import sys
stream = b'BT /F1 18 Tf 20 40 Td (A clean letter) Tj ET'
objs = [b'<< /Type /Catalog /Pages 2 0 R >>', b'<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
        b'<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R'
        b' /Resources << /Font << /F1 5 0 R >> >> >>',
        b'<< /Length %d >>\nstream\n' % len(stream) + stream + b'\nendstream',
        b'<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>']
out, offs = bytearray(b'%PDF-1.4\n'), []
for i, o in enumerate(objs, 1):
    offs.append(len(out))
    out += b'%d 0 obj\n' % i + o + b'\nendobj\n'
xref = len(out)
out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objs) + 1)
out += b''.join(b'%010d 00000 n \n' % o for o in offs)
out += b'trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n' % (len(objs) + 1, xref)
open(sys.argv[1], 'wb').write(out)
EOF
}

# A PDF that needs a user password (qpdf, AES-256) next to the same PDF in clear.
case_encrypted-pdf() {
  command -v qpdf >/dev/null || skip "needs qpdf"
  mkdir -p "$W/s"
  mkpdf "$W/s/letter.pdf"
  qpdf --encrypt s3cret owner-s3cret 256 -- "$W/s/letter.pdf" "$W/s/letter-locked.pdf"
  mkfat "$W/p1" 16 16 MGPDFENC
  fatfill "$W/p1" "$W/s"
  printf 'label: dos\nstart=2048, size=32768, type=6\n' | mkdisk "$IMG" 20
  put "$IMG" 2048 "$W/p1"
}

# Write a minimal RAR 4 archive $1 that stores file $2 (method "store") as name $3.
mkrar4() {
  python3 - "$@" <<'EOF'
import struct, sys, zlib
out, src, name = sys.argv[1], sys.argv[2], sys.argv[3].encode()
data = open(src, 'rb').read()
def block(htype, flags, body):
    hdr = struct.pack('<BHH', htype, flags, 7 + len(body)) + body
    return struct.pack('<H', zlib.crc32(hdr) & 0xffff) + hdr
marker = b'Rar!\x1a\x07\x00'
main = block(0x73, 0, b'\0' * 6)
dostime = (((2023 - 1980) << 25) | (11 << 21) | (14 << 16) | (12 << 11))
fbody = struct.pack('<IIBIIBBHI', len(data), len(data), 3, zlib.crc32(data), dostime, 20, 0x30,
                    len(name), 0o100644 << 16 | 0x20) + name
end = block(0x7b, 0x4000, b'')
open(out, 'wb').write(marker + main + block(0x74, 0x8000, fbody) + data + end)
EOF
}

case_rar() {
  mkdir -p "$W/s"
  clean "$W/letter.txt" "A clean letter stored inside a RAR archive."
  mkrar4 "$W/s/letters.rar" "$W/letter.txt" letter.txt
  clean "$W/s/readme.txt" "clean"
  mkfat "$W/p1" 16 16 MGRAR
  fatfill "$W/p1" "$W/s"
  printf 'label: dos\nstart=2048, size=32768, type=6\n' | mkdisk "$IMG" 20
  put "$IMG" 2048 "$W/p1"
}

# Zip bombs. mkzipbomb OUT flat N MIB: one zip with N members of MIB MiB of zeros each.
# mkzipbomb OUT nested FANOUT LEVELS MIB: a "42.zip": the leaf zip holds FANOUT members of
# MIB MiB of zeros, each upper level holds FANOUT copies of the level below. Identical
# members are deflated once and written many times (no tool expands them here).
mkzipbomb() {
  python3 - "$@" <<'EOF'
import struct, sys, zlib
t, d = (12 << 11), ((2023 - 1980) << 9) | (11 << 5) | 14

def zipof(n, member, fmt):
    """A zip holding n copies of bytes `member`, deflated once."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    comp = c.compress(member) + c.flush()
    crc, out, cd = zlib.crc32(member), bytearray(), bytearray()
    for i in range(n):
        name = (fmt % i).encode()
        cd += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, 8, t, d, crc, len(comp),
                          len(member), len(name), 0, 0, 0, 0, 0, len(out)) + name
        out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, 8, t, d, crc, len(comp), len(member),
                           len(name), 0) + name + comp
    return bytes(out + cd + struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, n, n, len(cd), len(out), 0))

out, kind = sys.argv[1], sys.argv[2]
if kind == 'flat':
    data = zipof(int(sys.argv[3]), bytes(int(sys.argv[4]) << 20), 'zeros/block%05d.bin')
else:
    fan, levels, mib = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    data = zipof(fan, bytes(mib << 20), 'zeros%02d.bin')
    for level in range(levels - 1):
        data = zipof(fan, data, 'part%02d.zip')
open(out, 'wb').write(data)
EOF
}

# 16 x 16 x 16 x 16 members of 16 MiB each: 1 TiB expanded from a small zip. ClamAV's
# clean-result cache sees the 15 identical siblings at each level as already scanned, so
# its own size/count limits are never reached.
case_zip-bomb() {
  mkdir -p "$W/s"
  mkzipbomb "$W/s/backup.zip" nested 16 4 16
  clean "$W/s/readme.txt" "clean"
  mkfat "$W/p1" 16 16 MGBOMB
  fatfill "$W/p1" "$W/s"
  printf 'label: dos\nstart=2048, size=32768, type=6\n' | mkdisk "$IMG" 20
  put "$IMG" 2048 "$W/p1"
}

# 2,000 members of 1 MiB of zeros (2 GB from a 2 MiB zip): ClamAV's own MaxScanSize
# heuristic fires here.
case_zip-bomb-flat() {
  mkdir -p "$W/s"
  mkzipbomb "$W/s/backup.zip" flat 2000 1
  clean "$W/s/readme.txt" "clean"
  mkfat "$W/p1" 16 16 MGBOMB
  fatfill "$W/p1" "$W/s"
  printf 'label: dos\nstart=2048, size=32768, type=6\n' | mkdisk "$IMG" 20
  put "$IMG" 2048 "$W/p1"
}

case_zip-nested() {
  mkdir -p "$W/s" "$W/z"
  local i
  clean "$W/z/inner.txt" "the clean bottom of a 30-level zip nest"
  (cd "$W/z" && zip -q -X level30.zip inner.txt && rm inner.txt)
  for ((i = 29; i >= 1; i--)); do
    (cd "$W/z" && zip -q -X "level$i.zip" "level$((i + 1)).zip" && rm "level$((i + 1)).zip")
  done
  mv "$W/z/level1.zip" "$W/s/nested.zip"
  clean "$W/s/readme.txt" "clean"
  mkfat "$W/p1" 16 16 MGNEST
  fatfill "$W/p1" "$W/s"
  printf 'label: dos\nstart=2048, size=32768, type=6\n' | mkdisk "$IMG" 20
  put "$IMG" 2048 "$W/p1"
}

# A partition holding a LUKS volume of type $1 (formatted as a plain file, no dm-crypt).
luks_case() {
  blank "$W/p1" 20
  printf '%s' 'mediagate-test-passphrase' >"$W/key"
  cryptsetup luksFormat -q --type "$1" --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
    --key-file "$W/key" "$W/p1" >/dev/null
  printf 'label: dos\nstart=2048, size=40960, type=83\n' | mkdisk "$IMG" 24
  put "$IMG" 2048 "$W/p1"
}
case_luks2() { luks_case luks2; }
case_luks1() { luks_case luks1; }

case_random-volume() {
  printf 'label: dos\nstart=2048, size=16384, type=7\n' | mkdisk "$IMG" 10
  head -c $((8 << 20)) /dev/urandom >"$W/p1"
  put "$IMG" 2048 "$W/p1"
}

case_clean-fat() {
  clean_tree "$W/s"
  mkdir -p "$W/s/Music/Album"
  clean "$W/s/Music/Album/tracklist.txt" "1. Intro"
  : >"$W/s/empty.txt" # 0-byte files must not turn a clean medium into an error
  : >"$W/s/Music/EMPTY"
  mkfat "$W/p1" 34 32 MGCLEAN
  fatfill "$W/p1" "$W/s"
  printf 'label: dos\nstart=2048, size=69632, type=c\n' | mkdisk "$IMG" 36
  put "$IMG" 2048 "$W/p1"
}

case_clean-gpt-multi() {
  mkdir -p "$W/a" "$W/b" "$W/c"
  clean_tree "$W/a"
  clean_tree "$W/b"
  clean "$W/c/report.txt" "NTFS clean file"
  clean "$W/c/data.txt" "more clean data"
  : >"$W/a/empty.txt"
  : >"$W/b/empty.txt"
  : >"$W/c/empty.txt"
  mkfat "$W/p1" 34 32 MGGPTFAT
  fatfill "$W/p1" "$W/a"
  mkext "$W/p2" 8 ext4 "$W/b"
  mkntfs_img "$W/p3" 8 90112
  ntfsput "$W/p3" "$W/c/report.txt" /report.txt
  ntfsput "$W/p3" "$W/c/data.txt" /data.txt
  ntfsput "$W/p3" "$W/c/empty.txt" /empty.txt
  mkdisk "$IMG" 56 <<'EOF'
label: gpt
start=2048, size=69632, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="fat32"
start=71680, size=16384, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="ext4"
start=90112, size=16384, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7, name="ntfs"
EOF
  put "$IMG" 2048 "$W/p1"
  put "$IMG" 71680 "$W/p2"
  put "$IMG" 90112 "$W/p3"
}

# --- main --------------------------------------------------------------------

usage() {
  echo "usage: mkmedia.sh CASE OUTDIR | mkmedia.sh --list" >&2
  exit 64
}

[ $# -ge 1 ] || usage
if [ "$1" = --list ]; then
  printf '%s\n' "${CASES[@]}"
  exit 0
fi
[ $# -eq 2 ] || usage
CASE=$1
OUT=$2
found=0
for c in "${CASES[@]}"; do [ "$c" = "$CASE" ] && found=1; done
[ "$found" = 1 ] || die "unknown case: $CASE (see --list)"
mkdir -p "$OUT"
IMG=$OUT/$CASE.img
W=$(mktemp -d "${TMPDIR:-/tmp}/mkmedia.XXXXXX")
LOOP=
MNT=
# Undo mounts and loop devices, drop the work directory, and on failure the image.
cleanup() {
  local rc=$?
  if [ -n "$MNT" ]; then umount "$MNT" 2>/dev/null || true; fi
  if [ -n "$LOOP" ]; then losetup -d "$LOOP" 2>/dev/null || true; fi
  rm -rf "$W"
  if [ "$rc" != 0 ]; then
    rm -f "$IMG"
    [ "$rc" = 77 ] || echo "mkmedia: building $CASE failed (exit $rc)" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
rm -f "$IMG"
"case_$CASE" # runs under set -e: any failing tool fails the build
[ -s "$IMG" ] || die "$CASE: no image written"
