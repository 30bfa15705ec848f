#!/usr/bin/env python3
"""Make a corrupted variant of a test medium: corrupt.py BASE.img OUT.img KIND SEED

KIND (the same KIND, SEED and BASE file name always give the same bytes):
  table     random bytes over the partition table: the MBR's four entries (the 0x55AA
            signature kept or not, by the seed) or the GPT header and entry array
  boot      random bytes over part of each volume's boot sector / superblock, so that the
            file system is still recognised but its geometry fields are wrong
  meta      1 byte in 16 replaced over each volume's allocation and metadata tables: FAT(s)
            and root directory, exFAT FAT, NTFS MFT (first 64 records), ext inode table of
            group 0, ISO9660 volume descriptors
  sprinkle  256 random bytes at random places in the first MiB of the device and of each
            volume
  all       table + boot + meta + sprinkle
`corrupt.py --kinds` prints the kinds. These media have no expected verdict: a scanner must
end each with a verdict or a clean error exit, within its time bound, without crashing.
"""
import os
import random
import shutil
import struct
import subprocess
import sys

KINDS = ('table', 'boot', 'meta', 'sprinkle', 'all')
MAX_VOLUMES = 64


def u16(b, o):
    return struct.unpack_from('<H', b, o)[0]


def u32(b, o):
    return struct.unpack_from('<I', b, o)[0]


def u64(b, o):
    return struct.unpack_from('<Q', b, o)[0]


class Disk:
    def __init__(self, path):
        self.f = open(path, 'r+b')
        self.size = os.fstat(self.f.fileno()).st_size

    def read(self, off, n):
        if off < 0 or off >= self.size:
            return b''
        self.f.seek(off)
        return self.f.read(min(n, self.size - off))

    def write(self, off, data):
        data = data[:max(0, self.size - off)]
        if off >= 0 and data:
            self.f.seek(off)
            self.f.write(data)


def volumes(disk):
    """Table sectors and volumes: ([(off, len) of table areas], [(off, len) of volumes])."""
    mbr = disk.read(0, 512)
    if len(mbr) < 512 or mbr[510:512] != b'\x55\xaa':
        return [], [(0, disk.size)]
    entries = [mbr[446 + 16 * i:462 + 16 * i] for i in range(4)]
    if any(e[4] == 0xee for e in entries):
        hdr = disk.read(512, 512)
        if hdr[:8] == b'EFI PART':
            lba, count, esz = u64(hdr, 72), u32(hdr, 80), u32(hdr, 84)
            vols = []
            if 128 <= esz <= 4096:
                arr = disk.read(lba * 512, min(count, 256) * esz)
                for i in range(len(arr) // esz):
                    e = arr[i * esz:(i + 1) * esz]
                    first, last = u64(e, 32), u64(e, 40)
                    if any(e[:16]) and last >= first:
                        vols.append((first * 512, (last - first + 1) * 512))
            return [(0, 512), (512, 512), (lba * 512, 128 * 128)], vols[:MAX_VOLUMES]
    tables, vols = [(446, 66)], []
    for e in entries:
        ptype, start, length = e[4], u32(e, 8), u32(e, 12)
        if ptype in (0x05, 0x0f, 0x85):
            ext, ebr = start, start
            for _ in range(MAX_VOLUMES):  # walk the chain of extended boot records
                b = disk.read(ebr * 512, 512)
                if len(b) < 512 or b[510:512] != b'\x55\xaa':
                    break
                tables.append((ebr * 512 + 446, 66))
                if b[450]:
                    vols.append(((ebr + u32(b, 454)) * 512, u32(b, 458) * 512))
                if b[466] not in (0x05, 0x0f, 0x85) or u32(b, 470) == 0:
                    break
                ebr = ext + u32(b, 470)
        elif ptype and length:
            vols.append((start * 512, length * 512))
    return tables, vols[:MAX_VOLUMES]


def meta_ranges(disk, off):
    """Where a volume at byte off keeps its allocation and metadata tables."""
    bs = disk.read(off, 4096)
    if len(bs) < 2048:
        return []
    if bs[3:11] == b'NTFS    ':
        bps, spc = u16(bs, 11), bs[13]
        return [(off + u64(bs, 0x30) * bps * spc, 64 * 1024)] if bps and spc else []
    if bs[3:11] == b'EXFAT   ':
        sh = bs[108]
        return [(off + (u32(bs, 80) << sh), min(u32(bs, 84) << sh, 1 << 20))] if sh < 13 else []
    if u16(bs, 1024 + 56) == 0xef53:
        bsize = 1024 << min(u32(bs, 1024 + 24), 6)
        gd = disk.read(off + (2048 if bsize == 1024 else bsize), 64)
        isz = u16(bs, 1024 + 88) or 128
        ipg = u32(bs, 1024 + 40)
        return [(off + u32(gd, 8) * bsize, min(ipg * isz, 1 << 20))] if len(gd) == 64 else []
    if bs[510:512] == b'\x55\xaa' and u16(bs, 11) in (512, 1024, 2048, 4096):
        bps, rsv, nf, rootents = u16(bs, 11), u16(bs, 14), bs[16], u16(bs, 17)
        fatsz = u16(bs, 22) or u32(bs, 36)
        n = min(nf * fatsz * bps + rootents * 32, 4 << 20)
        return [(off + rsv * bps, n)] if n else []
    iso = disk.read(off + 32768, 2048)
    if iso[1:6] == b'CD001':
        return [(off + 32768, 4 * 2048)]
    return [(off, 65536)]


def randomize(disk, rng, off, length, every=1):
    """Replace bytes in [off, off+length) with random ones (every `every`-th byte, at random)."""
    data = bytearray(disk.read(off, length))
    for i in range(len(data)):
        if every == 1 or rng.randrange(every) == 0:
            data[i] = rng.randrange(256)
    disk.write(off, bytes(data))


def corrupt(disk, kind, rng):
    tables, vols = volumes(disk)
    if kind in ('table', 'all'):
        for off, n in tables:
            randomize(disk, rng, off, n)
        if tables and rng.random() < 0.5:
            disk.write(510, b'\x55\xaa')
    if kind in ('boot', 'all'):
        for off, _ in vols:
            sb = 1024 if u16(disk.read(off + 1024 + 56, 2) + b'\0\0', 0) == 0xef53 else 0
            start = off + sb + rng.randrange(11, 64)
            randomize(disk, rng, start, rng.randrange(8, 48))
    if kind in ('meta', 'all'):
        for off, _ in vols:
            for moff, n in meta_ranges(disk, off):
                randomize(disk, rng, moff, n, every=16)
    if kind in ('sprinkle', 'all'):
        for off, length in [(0, disk.size)] + vols:
            span = min(length, 1 << 20)
            for _ in range(256):
                disk.write(off + rng.randrange(span), bytes([rng.randrange(256)]))


def main():
    if sys.argv[1:] == ['--kinds']:
        print('\n'.join(KINDS))
        return 0
    if len(sys.argv) != 5 or sys.argv[3] not in KINDS:
        print(__doc__, file=sys.stderr)
        return 64
    base, out, kind, seed = sys.argv[1:]
    # cp keeps the image sparse; copyfile would fill the holes.
    if subprocess.run(['cp', '--sparse=always', base, out]).returncode != 0:
        shutil.copyfile(base, out)
    disk = Disk(out)
    corrupt(disk, kind, random.Random('%s:%s:%s' % (kind, seed, os.path.basename(base))))
    disk.f.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
