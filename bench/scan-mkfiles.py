#!/usr/bin/env python3
"""Generate the file trees and raw data of the scan benchmark (bench/scan-vs-clamscan.sh).

Everything is deterministic for a given seed, so two runs scan the same bytes.

  scan-mkfiles.py small DIR COUNT [--seed S]
      COUNT small files (100 B - 64 KiB, log-uniform sizes) in sub-directories of 200:
      about half text, 40 % random binary, 10 % zip archives of a few text members.
  scan-mkfiles.py large DIR TOTAL [--seed S]
      about TOTAL bytes of mixed large files: binaries copied from /usr/bin and /usr/lib,
      archives (zip, tar.gz, 7z) of other system files, documents (PDFs from /usr/share/doc)
      and random data in 64 MiB files that make up the rest.
  scan-mkfiles.py random FILE BYTES [--seed S]
      BYTES of random data into FILE.
Each command prints the number of bytes written.
"""
import argparse, gzip, io, os, random, shutil, subprocess, sys, zipfile

MiB = 1 << 20
WORDS = ("the of and to in is that for it as was with be by on not he this are or his from at which "
         "but have an they you were her she there been one all we their has would when if so no will "
         "kiosk medium scan file sector cluster volume partition signature engine report ledger stick "
         "quarterly invoice meeting budget minutes agenda project draft final review approved").split()


def text_bytes(rnd, n):
    """Return n bytes of word-like text with line breaks."""
    out = io.StringIO()
    size = 0
    while size < n:
        line = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(4, 14))) + ".\n"
        out.write(line)
        size += len(line)
    return out.getvalue().encode()[:n]


def write_random(path, nbytes, rnd):
    """Write nbytes of random data to path in 4 MiB pieces."""
    with open(path, "wb") as f:
        left = nbytes
        while left > 0:
            n = min(left, 4 * MiB)
            f.write(rnd.randbytes(n))
            left -= n
    return nbytes


def cmd_small(a):
    """Write COUNT small files of mixed kinds."""
    rnd = random.Random(a.seed)
    total = 0
    for i in range(a.count):
        d = os.path.join(a.dir, "d%03d" % (i // 200))
        if i % 200 == 0:
            os.makedirs(d, exist_ok=True)
        size = int(round(100 * (65536 / 100) ** rnd.random()))
        kind = rnd.random()
        if kind < 0.5:
            path, data = os.path.join(d, "f%05d.txt" % i), text_bytes(rnd, size)
        elif kind < 0.9:
            path, data = os.path.join(d, "f%05d.bin" % i), rnd.randbytes(size)
        else:
            path = os.path.join(d, "f%05d.zip" % i)
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for m in range(rnd.randint(1, 4)):
                    z.writestr("doc%d.txt" % m, text_bytes(rnd, max(50, size // 2)))
            data = buf.getvalue()
        with open(path, "wb") as f:
            f.write(data)
        total += len(data)
    return total


def system_files(roots, min_size):
    """List regular files under roots (not symlinks), at least min_size bytes, in a stable order."""
    out = []
    for root in roots:
        for dp, dns, fns in os.walk(root):
            dns.sort()
            for fn in sorted(fns):
                p = os.path.join(dp, fn)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if not os.path.islink(p) and os.path.isfile(p) and st.st_size >= min_size \
                        and os.access(p, os.R_OK):
                    out.append((p, st.st_size))
    return out


def take(cands, budget, used):
    """Take files from cands (skipping used ones) until budget bytes are reached."""
    got, size = [], 0
    for p, n in cands:
        if size >= budget:
            break
        if p in used or n > budget:
            continue
        used.add(p)
        got.append(p)
        size += n
    return got, size


def du(path):
    """Return the apparent size of all files under path."""
    return sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fns in os.walk(path) for f in fns)


def cmd_large(a):
    """Write about TOTAL bytes of binaries, archives, documents and random data."""
    rnd = random.Random(a.seed)
    total = a.total
    for sub in ("bin", "arc", "doc", "rnd"):
        os.makedirs(os.path.join(a.dir, sub), exist_ok=True)
    used = set()
    libs = system_files(["/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/lib/gcc", "/usr/libexec"],
                        64 << 10)
    rnd.shuffle(libs)
    # Binaries, copied as they are: about 35 %.
    bins, _ = take(libs, total * 35 // 100, used)
    for i, p in enumerate(bins):
        shutil.copyfile(p, os.path.join(a.dir, "bin", "%04d-%s" % (i, os.path.basename(p))))
    # Archives: zip and 7z of other binaries, tar.gz of files from /usr/share (about 25 % packed).
    # Each archive takes at most ARC_IN bytes in, so that none exceeds the engines' 100 MiB
    # per-file limit (clamscan skips such a file; mediagate scans it in raw chunks).
    arc_in = min(80 * MiB, max(total // 10, MiB))
    share = system_files(["/usr/share/doc", "/usr/share/man", "/usr/share/perl", "/usr/lib/python3"],
                         1024)
    rnd.shuffle(share)
    jobs = []
    for kind, cands, budget in (("zip", libs, total * 25 // 100), ("7z", libs, total * 8 // 100),
                                ("tgz", share, total * 20 // 100)):
        n = 0
        while budget > 0:
            files, got = take(cands, min(budget, arc_in), used)
            if not files:
                break
            jobs.append((kind, n, files))
            budget -= got
            n += 1
    arc = os.path.join(a.dir, "arc")
    lst = os.path.join(a.dir, ".list")
    for kind, n, files in jobs:
        with open(lst, "w") as f:
            f.write("".join(p + "\n" for p in files))
        if kind == "zip":
            with open(lst) as f:
                subprocess.run(["zip", "-q", "-6", "-@", os.path.join(arc, "system-%d.zip" % n)],
                               stdin=f, check=True)
        elif kind == "7z":
            subprocess.run(["7z", "a", "-bd", "-bso0", "-mx=1", "-mmt=2",
                            os.path.join(arc, "system-%d.7z" % n), "@" + lst], check=True)
        else:
            subprocess.run(["tar", "-czf", os.path.join(arc, "share-%d.tar.gz" % n), "-P", "-T", lst],
                           check=True, stderr=subprocess.DEVNULL)
    if os.path.exists(lst):
        os.unlink(lst)
    # Documents: every PDF under /usr/share/doc (compressed ones unpacked).
    for p, _ in system_files(["/usr/share/doc"], 1):
        base = os.path.basename(p)
        dst = os.path.join(a.dir, "doc", base)
        if base.endswith(".pdf"):
            shutil.copyfile(p, dst)
        elif base.endswith(".pdf.gz"):
            with gzip.open(p) as src, open(dst[:-3], "wb") as out:
                shutil.copyfileobj(src, out)
    # Random data makes up the rest, in files of at most 64 MiB.
    left = total - du(a.dir)
    i = 0
    while left > 0:
        n = min(left, 64 * MiB)
        write_random(os.path.join(a.dir, "rnd", "random-%02d.bin" % i), n, rnd)
        left -= n
        i += 1
    return du(a.dir)


def cmd_random(a):
    """Write BYTES of random data."""
    return write_random(a.file, a.bytes, random.Random(a.seed))


def main():
    ap = argparse.ArgumentParser()
    sp = ap.add_subparsers(dest="cmd", required=True)
    p = sp.add_parser("small")
    p.add_argument("dir")
    p.add_argument("count", type=int)
    p = sp.add_parser("large")
    p.add_argument("dir")
    p.add_argument("total", type=int)
    p = sp.add_parser("random")
    p.add_argument("file")
    p.add_argument("bytes", type=int)
    for p in sp.choices.values():
        p.add_argument("--seed", type=int, default=20261123)
    a = ap.parse_args()
    if a.cmd in ("small", "large"):
        os.makedirs(a.dir, exist_ok=True)
    n = {"small": cmd_small, "large": cmd_large, "random": cmd_random}[a.cmd](a)
    print(n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
