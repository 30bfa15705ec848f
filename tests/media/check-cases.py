#!/usr/bin/env python3
"""Check cases.tsv against the media mkmedia.sh builds, with The Sleuth Kit's command-line
tools (mmls, fsstat, ifind, istat, icat, fls, blkls, tsk_recover) and clamscan: every listed
detection must be found where the manifest says, and media whose detections are '-' must
have no signature match anywhere (files, unallocated space, gaps, boot sectors, raw bytes).

usage: check-cases.py [--build] [--extra] [--clean] OUTDIR [CASE...]
  --build  build the images (mkmedia.sh) and the signature database (sigdb.sh) into
           OUTDIR first; otherwise they must already be there (OUTDIR/CASE.img, OUTDIR/db).
  --extra  also list every match found on infected media (as notes).
  --clean  delete each image once it is checked.
Exit status: 0 all good, 1 a mismatch, 77 nothing could be checked (every case skipped).
This is a check of the manifest and of the media, independent of mediagate's own code.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
EICAR = b'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
REGIONS = ('file', 'unallocated', 'gap', 'boot', 'raw')
VERDICTS = ('infected', 'unsafe', 'encrypted', 'unreadable', 'clean')
TIMEOUT = 120
EXTRA = False


def run(args, timeout=TIMEOUT, check=False):
    """Run a command, return (rc, stdout bytes, stderr text)."""
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError('%s failed: %s' % (' '.join(map(str, args)), p.stderr.decode(errors='replace')))
    return p.returncode, p.stdout, p.stderr.decode(errors='replace')


def unescape(s):
    """Decode a PATH field of cases.tsv (\\n \\t \\\\ \\xHH) into raw bytes."""
    out, i = bytearray(), 0
    while i < len(s):
        c = s[i]
        if c != '\\':
            out += c.encode('utf-8')
            i += 1
            continue
        n = s[i + 1]
        if n == 'n':
            out += b'\n'
            i += 2
        elif n == 't':
            out += b'\t'
            i += 2
        elif n == '\\':
            out += b'\\'
            i += 2
        elif n == 'x':
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        else:
            raise ValueError('bad escape in %r' % s)
    return bytes(out)


def parse_manifest(path):
    """Read cases.tsv: a list of (case, verdict, [(sig, region, path, stream, deleted)])."""
    rows = []
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            fields = line.split('\t')
            if len(fields) != 3:
                raise ValueError('cases.tsv:%d: expected 3 tab-separated fields' % n)
            case, verdict, dets = fields
            if verdict not in VERDICTS:
                raise ValueError('cases.tsv:%d: bad verdict %r' % (n, verdict))
            parsed = []
            if dets != '-':
                for d in dets.split(';'):
                    p = d.split(',')
                    if len(p) != 5 or p[1] not in REGIONS or p[4] not in ('0', '1'):
                        raise ValueError('cases.tsv:%d: bad detection %r' % (n, d))
                    path = None if p[2] == '*' else unescape(p[2])
                    if path is not None and not path.startswith(b'/'):
                        raise ValueError('cases.tsv:%d: path not absolute: %r' % (n, d))
                    parsed.append((p[0], p[1], path, None if p[3] == '-' else p[3], p[4] == '1'))
            rows.append((case, verdict, parsed))
    return rows


class Scanner:
    """clamscan with the test database, on bytes or on a directory."""

    def __init__(self, db, tmp):
        self.db, self.tmp, self.n = db, tmp, 0

    def names_of(self, target, heuristics=False):
        args = ['clamscan', '--no-summary', '--allmatch', '--recursive', '-d', self.db, '--stdout']
        if heuristics:
            args += ['--alert-encrypted=yes', '--alert-exceeds-max=yes', '--heuristic-alerts=yes']
        rc, out, err = run(args + [target], timeout=600)
        if rc not in (0, 1):
            raise RuntimeError('clamscan failed: ' + err)
        found = []
        for line in out.decode(errors='replace').splitlines():
            m = re.match(r'^(.*): (\S+) FOUND$', line)
            if m:
                found.append((m.group(1), re.sub(r'\.UNOFFICIAL$', '', m.group(2))))
        return found

    def bytes_names(self, data):
        """Signature names matched by raw bytes (in overlapping 32 MiB chunks, below
        clamscan's 100 MiB file limit), plus by every PE carved from them."""
        self.n += 1
        d = os.path.join(self.tmp, 'scan%d' % self.n)
        os.mkdir(d)
        chunk, overlap = 32 << 20, 1 << 20
        for i, off in enumerate(range(0, max(len(data), 1), chunk - overlap)):
            with open(os.path.join(d, 'raw%d.bin' % i), 'wb') as f:
                f.write(data[off:off + chunk])
            if off + chunk >= len(data):
                break
        for i, pe in enumerate(carve_pe(data)):
            with open(os.path.join(d, 'carved%d.exe' % i), 'wb') as f:
                f.write(pe)
        names = {n for _, n in self.names_of(d)}
        shutil.rmtree(d)
        return names


def carve_pe(data):
    """Yield each PE that starts at a 512-byte boundary of data, cut to its own size."""
    for off in range(0, max(len(data) - 64, 0), 512):
        if data[off:off + 2] != b'MZ':
            continue
        e = struct.unpack_from('<I', data, off + 0x3c)[0]
        if e > 4096 or data[off + e:off + e + 4] != b'PE\0\0':
            continue
        nsec, optsz = struct.unpack_from('<H', data, off + e + 6)[0], struct.unpack_from('<H', data, off + e + 20)[0]
        size = struct.unpack_from('<I', data, off + e + 24 + 60)[0]
        sect = off + e + 24 + optsz
        for i in range(min(nsec, 96)):
            rsize, rptr = struct.unpack_from('<II', data, sect + 40 * i + 16)
            size = max(size, rptr + rsize)
        pe = data[off:off + min(size, 64 << 20)]
        yield pe
        # The headers may claim more than the file holds (clam.exe: 1024 vs 544 bytes): a
        # carver also tries the object with the zero padding after it trimmed.
        if pe.rstrip(b'\0') != pe:
            yield pe.rstrip(b'\0')


class Image:
    """A disk image as The Sleuth Kit sees it: table, partitions, gaps, file systems."""

    def __init__(self, path):
        self.path = path
        self.size = os.path.getsize(path)
        self.table = None
        self.volumes = []  # (start sector, length in sectors, description)
        self.gaps = []
        rc, out, _ = run(['mmls', path], timeout=30)
        if rc == 0:
            for line in out.decode(errors='replace').splitlines():
                m = re.match(r'^\d+:\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*)$', line)
                if not m:
                    if line.strip() and self.table is None:
                        self.table = line.strip()
                    continue
                slot, start, length, desc = m.group(1), int(m.group(2)), int(m.group(4)), m.group(5)
                if slot == 'Meta':
                    continue
                if slot.startswith('---'):
                    self.gaps.append((start, length))
                else:
                    self.volumes.append((start, length, desc))
        else:
            self.volumes.append((0, self.size // 512, 'whole device'))
        self.fs = {}
        for start, _, _ in self.volumes:
            rc, out, err = run(['fsstat', '-t', '-o', str(start), path], timeout=30)
            self.fs[start] = out.decode().strip() if rc == 0 else None
            if rc != 0:
                self.fs_error = getattr(self, 'fs_error', {})
                self.fs_error[start] = err.strip().splitlines()[0] if err.strip() else 'unknown'

    def read(self, sector, count):
        with open(self.path, 'rb') as f:
            f.seek(sector * 512)
            return f.read(count * 512)

    def fs_volumes(self):
        return [v for v in self.volumes if self.fs[v[0]]]

    def bad_volumes(self):
        return [(v, self.fs_error[v[0]]) for v in self.volumes if not self.fs[v[0]]]


def sanitized(path):
    """The name as fls prints it: control characters shown as '^'."""
    return bytes(b if 0x20 <= b != 0x7f else 0x5e for b in path)


def find_file(img, path, stream, deleted):
    """Locate path in some file system of img: (volume start, icat address) or a reason."""
    why = 'not found by ifind -n in any file system'
    for start, _, _ in img.fs_volumes():
        rc, out, _ = run(['ifind', '-n', path, '-o', str(start), img.path], timeout=60)
        if rc != 0 or not out.strip() or out.startswith(b'File not found'):
            continue
        inode = out.split()[0].decode()
        addr = inode
        if stream:
            rc, out, _ = run(['istat', '-o', str(start), img.path, inode], timeout=60)
            m = re.search(rb'Type: \$DATA \((\d+-\d+)\)\s+Name: ' + re.escape(stream.encode()) + rb'\s', out)
            if not m:
                why = 'no stream %r on %s' % (stream, path)
                continue
            addr = inode + '-' + m.group(1).decode()
        # The deletion state as fls shows it (and whether the walk reaches the name at all).
        rc, out, _ = run(['fls', '-r', '-p', '-d' if deleted else '-u', '-o', str(start), img.path], timeout=120)
        listed = any(line.split(b'\t', 1)[-1] == sanitized(path[1:]) + (b':' + stream.encode() if stream else b'')
                     for line in out.split(b'\n'))
        depth = path.count(b'/')
        if not listed and depth <= 128:
            why = '%s found by ifind but not listed by fls %s' % (path, '-d' if deleted else '-u')
            continue
        return start, addr, ('' if listed else ' (beyond the fls walk: depth %d)' % depth)
    return None, None, why


def scan_everything(img, scanner, heuristics=False):
    """Every signature match on the medium: [(region, where, name)]."""
    hits = []
    tmp = tempfile.mkdtemp(dir=scanner.tmp)
    for start, length, _ in img.fs_volumes():
        out = os.path.join(tmp, 'v%d' % start)
        run(['tsk_recover', '-e', '-o', str(start), img.path, out], timeout=600)
        if os.path.isdir(out):
            for where, name in scanner.names_of(out, heuristics):
                hits.append(('file', where[len(out):], name))
        if img.fs[start] == 'ntfs':  # tsk_recover writes default streams only
            rc, out, _ = run(['fls', '-r', '-p', '-o', str(start), img.path], timeout=120)
            for m in re.finditer(rb'^[-a-z]/[-a-z] (?:\* )?(\d+-128-\d+):\t([^\n]*:[^\n$]*)$', out, re.M):
                if b':$' in m.group(2):
                    continue
                rc, data, _ = run(['icat', '-o', str(start), img.path, m.group(1).decode()], timeout=600)
                hits += [('file', m.group(2).decode(errors='replace'), n) for n in scanner.bytes_names(data)]
        rc, data, _ = run(['blkls', '-o', str(start), img.path], timeout=600)
        hits += [('unallocated', start, n) for n in scanner.bytes_names(data)]
        hits += [('boot', start, n) for n in scanner.bytes_names(img.read(start, 1))]
    for (start, length, _), _ in img.bad_volumes():
        hits += [('raw', start, n) for n in scanner.bytes_names(img.read(start, length))]
    for start, length in img.gaps:
        hits += [('gap', start, n) for n in scanner.bytes_names(img.read(start, length))]
    if img.table:
        hits += [('boot', 0, n) for n in scanner.bytes_names(img.read(0, 1))]
    shutil.rmtree(tmp)
    return hits


def check_case(case, verdict, dets, imgpath, scanner):
    """Check one manifest line; return a list of problems (empty when all is right)."""
    problems, notes = [], []
    img = Image(imgpath)
    bad = img.bad_volumes()
    enc = [v for v, e in bad if 'ncryption' in e]
    if verdict == 'encrypted' and not enc:
        problems.append('no volume that libtsk calls encrypted')
    if verdict == 'unreadable' and not [v for v, e in bad if 'ncryption' not in e]:
        problems.append('no volume that libtsk cannot read')
    if verdict in ('clean', 'unsafe') and bad:
        problems.append('unreadable volumes in a %s medium: %s' % (verdict, bad))
    for v, e in bad:
        notes.append('volume at sector %d: %s' % (v[0], e))

    # Candidate locations per region, each with the names matched there.
    regions = {'unallocated': [], 'gap': [], 'boot': [], 'raw': []}
    if any(d[1] != 'file' for d in dets):
        for start, _, _ in img.fs_volumes():
            rc, data, _ = run(['blkls', '-o', str(start), img.path], timeout=600)
            regions['unallocated'].append(scanner.bytes_names(data))
            regions['boot'].append(scanner.bytes_names(img.read(start, 1)))
        if img.table:
            regions['boot'].append(scanner.bytes_names(img.read(0, 1)))
        for start, length in img.gaps:
            regions['gap'].append(scanner.bytes_names(img.read(start, length)))
        for (start, length, _), _ in bad:
            regions['raw'].append(scanner.bytes_names(img.read(start, length)))

    used = {k: set() for k in regions}
    for sig, region, path, stream, deleted in dets:
        label = '%s,%s,%s,%s,%d' % (sig, region, path.decode('utf-8', 'backslashreplace') if path else '*',
                                    stream or '-', deleted)
        if region == 'file':
            start, addr, why = find_file(img, path, stream, deleted)
            if start is None:
                problems.append('%s: %s' % (label, why))
                continue
            rc, data, err = run(['icat', '-o', str(start), img.path, addr], timeout=600)
            names = scanner.bytes_names(data)
            if not any(n.startswith(sig) for n in names) and img.fs[start].startswith('ext'):
                # libtsk may fail to read what is there (sparse files larger than the
                # volume): read the file with e2fsprogs instead, and say so.
                vol = os.path.join(scanner.tmp, 'vol.img')
                with open(vol, 'wb') as f:
                    f.write(img.read(start, [v[1] for v in img.volumes if v[0] == start][0]))
                rc2, data2, _ = run(['debugfs', '-R', b'cat "' + path + b'"', vol], timeout=600)
                os.unlink(vol)
                names = scanner.bytes_names(data2)
                if any(n.startswith(sig) for n in names):
                    notes.append('%s: libtsk icat reads %d bytes (%s), debugfs reads %d and finds it' % (
                        label, len(data), err.strip().splitlines()[0] if err.strip() else 'no error', len(data2)))
                    continue
            if not any(n.startswith(sig) for n in names):
                problems.append('%s: icat %s gives %s' % (label, addr, sorted(names) or 'no match'))
            elif why:
                notes.append(label + why)
            continue
        # A location can satisfy several tuples, each with a different signature.
        for i, names in enumerate(regions[region]):
            match = [n for n in names if n.startswith(sig) and (i, n) not in used[region]]
            if match:
                used[region].add((i, match[0]))
                break
        else:
            problems.append('%s: no (further) %s location matches' % (label, region))

    if dets and EXTRA:
        for region, where, name in scan_everything(img, scanner):
            notes.append('match: %s %s %s' % (name, region, where))
    if not dets:
        hits = scan_everything(img, scanner, heuristics=verdict == 'unsafe')
        sigs = [h for h in hits if not h[2].startswith('Heuristics.')]
        if sigs:
            problems.append('signature matches on a medium listed without detections: %s' % sigs[:5])
        heur = sorted({h[2] for h in hits if h[2].startswith('Heuristics.')})
        if heur:
            notes.append('clamscan heuristics: ' + ', '.join(heur))
    return problems, notes


def main():
    args = sys.argv[1:]
    global EXTRA
    build = False
    clean = False
    while args and args[0] in ('--build', '--extra', '--clean'):
        build = build or args[0] == '--build'
        EXTRA = EXTRA or args[0] == '--extra'
        clean = clean or args[0] == '--clean'
        args = args[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 64
    out, only = args[0], set(args[1:])
    rows = parse_manifest(os.path.join(HERE, 'cases.tsv'))
    listed = subprocess.run([os.path.join(HERE, 'mkmedia.sh'), '--list'], stdout=subprocess.PIPE,
                            check=True).stdout.decode().split()
    if sorted(listed) != sorted(r[0] for r in rows):
        print('cases.tsv and mkmedia.sh --list differ', file=sys.stderr)
        return 1
    os.makedirs(out, exist_ok=True)
    db = os.path.join(out, 'db')
    if build or not os.path.isdir(db):
        run([os.path.join(HERE, 'sigdb.sh'), db], check=True)
    failed = checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        scanner = Scanner(db, tmp)
        for case, verdict, dets in rows:
            if only and case not in only:
                continue
            img = os.path.join(out, case + '.img')
            if build:
                rc, so, err = run([os.path.join(HERE, 'mkmedia.sh'), case, out], timeout=600)
                if rc == 77:
                    print('SKIP %s: %s' % (case, so.decode().strip()))
                    continue
                if rc != 0:
                    print('FAIL %s: mkmedia.sh: %s' % (case, err.strip()))
                    failed += 1
                    continue
            if not os.path.exists(img):
                print('SKIP %s: no image' % case)
                continue
            checked += 1
            problems, notes = check_case(case, verdict, dets, img, scanner)
            print('%s %s (%s, %d detections)' % ('FAIL' if problems else 'ok  ', case, verdict, len(dets)))
            for p in problems:
                print('    problem: ' + p)
            for n in notes:
                print('    note: ' + n)
            failed += bool(problems)
            if clean:
                os.unlink(img)
    if failed:
        return 1
    return 0 if checked else 77


if __name__ == '__main__':
    sys.exit(main())
