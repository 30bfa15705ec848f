#!/bin/bash
# Build the test signature database with sigtool: sigdb.sh OUTDIR writes
#   OUTDIR/mgtest.hdb  whole-file MD5 signatures: Eicar-Test-Signature (the 68-byte
#                      EICAR file) and ClamAV-Test-File (clamav-testfiles' clam.exe)
#   OUTDIR/mgtest.ndb  one body signature, Eicar-Test-Body (EICAR's bytes, any offset)
#   OUTDIR/dated/mgtest.cud  the same signatures in a dated container made by
#                      `sigtool --build --unsigned` (its header carries version 7 and
#                      the build time: cl_cvdhead() reads it)
#   OUTDIR/dated-old/mgtest.cud  the same, header back-dated to 2020-01-01 (version 6)
# Load OUTDIR itself (not OUTDIR/dated) for the plain databases: the .cud holds the
# same signatures. libclamav reports them with a ".UNOFFICIAL" suffix.
set -euo pipefail
export LC_ALL=C
umask 022

[ $# -eq 1 ] || {
  echo "usage: sigdb.sh OUTDIR" >&2
  exit 64
}
OUT=$1
TESTFILES=${MG_CLAMAV_TESTFILES:-/usr/share/clamav-testfiles}
EICAR='X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'
command -v sigtool >/dev/null || {
  echo "sigdb.sh: sigtool not found (package clamav)" >&2
  exit 1
}
[ -r "$TESTFILES/clam.exe" ] || {
  echo "sigdb.sh: $TESTFILES/clam.exe missing (package clamav-testfiles)" >&2
  exit 1
}

mkdir -p "$OUT"
W=$(mktemp -d "${TMPDIR:-/tmp}/sigdb.XXXXXX")
trap 'rm -rf "$W"' EXIT

printf '%s' "$EICAR" >"$W/Eicar-Test-Signature"
cp "$TESTFILES/clam.exe" "$W/ClamAV-Test-File"
# sigtool --md5 prints MD5:size:filename; the file name becomes the signature name.
(cd "$W" && sigtool --md5 Eicar-Test-Signature ClamAV-Test-File) >"$W/mgtest.hdb"
[ "$(wc -l <"$W/mgtest.hdb")" = 2 ] || {
  echo "sigdb.sh: sigtool --md5 gave no signatures" >&2
  exit 1
}
# .ndb: Name:TargetType:Offset:HexSignature (target 0 = any file, offset * = anywhere).
printf 'Eicar-Test-Body:0:*:%s\n' "$(printf '%s' "$EICAR" | od -An -v -tx1 | tr -d ' \n')" >"$W/mgtest.ndb"
cp "$W/mgtest.hdb" "$W/mgtest.ndb" "$OUT/"

# A dated, unsigned container (.cud): sigtool --build packs the databases found in the
# current directory (it insists on a COPYING file there, and asks for a builder name on
# stdin) behind a 512-byte header "ClamAV-VDB:time:version:sigs:flevel:md5:dsig:builder:
# stime" that cl_cvdhead() reads. --datadir points at an empty directory so that no
# installed database influences the version.
mkdir -p "$W/build" "$W/empty"
cp "$W/mgtest.hdb" "$W/mgtest.ndb" "$W/build/"
echo "mediagate test signatures: EICAR and ClamAV's own test file." >"$W/build/COPYING"
rm -rf "$OUT/dated" "$OUT/dated-old"
if (cd "$W/build" && printf 'mediagate\n' | sigtool --datadir="$W/empty" --build=mgtest.cud --unsigned \
  --cvd-version=7 --no-cdiff --max-bad-sigs=0 >"$W/build.log" 2>&1) && [ -s "$W/build/mgtest.cud" ]; then
  mkdir -p "$OUT/dated" "$OUT/dated-old"
  cp "$W/build/mgtest.cud" "$OUT/dated/"
  # The same container back-dated to 2020-01-01 00:00 UTC as version 6: libclamav checks
  # the header against the copy inside the packed .info member and the MD5 of the body,
  # so both are rewritten.
  python3 - "$W/build/mgtest.cud" "$OUT/dated-old/mgtest.cud" <<'PY'
import gzip, hashlib, io, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
data = open(src, 'rb').read()
f = data[:512].rstrip(b' \0').split(b':')
assert f[0] == b'ClamAV-VDB' and len(f) == 9, f
when, version, stime = b'01 Jan 2020 00-00 +0000', b'6', b'1577836800'
out = io.BytesIO()
with tarfile.open(fileobj=io.BytesIO(data[512:]), mode='r:gz') as tin, \
        tarfile.open(fileobj=out, mode='w', format=tarfile.USTAR_FORMAT) as tout:
    for m in tin.getmembers():
        body = tin.extractfile(m).read()
        if m.name.endswith('.info'):
            lines = body.split(b'\n')
            i = lines[0].split(b':')
            i[1], i[2], i[8] = when, version, stime
            lines[0] = b':'.join(i)
            body = b'\n'.join(lines)
            m.size = len(body)
        tout.addfile(m, io.BytesIO(body))
gz = gzip.compress(out.getvalue(), mtime=0)
f[1], f[2], f[5], f[8] = when, version, hashlib.md5(gz).hexdigest().encode(), stime
open(dst, 'wb').write(b':'.join(f).ljust(512, b' ') + gz)
PY
else
  echo "sigdb.sh: note: sigtool --build --unsigned made no .cud:" >&2
  cat "$W/build.log" >&2
fi
