// goverify checks a mediagate ledger export bundle with Go's golang.org/x/mod/sumdb/note and
// sumdb/tlog: an implementation of C2SP signed notes and RFC 6962 trees that no one here wrote.
//
// Usage: goverify BUNDLE [-old CHECKPOINT]... [-proof PROOFFILE]... [-auditor VKEYFILE]
// Exit status 0 when everything verifies; 1 with a message otherwise.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "goverify: "+format+"\n", args...)
	os.Exit(1)
}

func read(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	return b
}

// parseCheckpoint parses a tlog-checkpoint body: origin, size, base64 root.
func parseCheckpoint(text string) (string, int64, tlog.Hash) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 {
		fail("malformed checkpoint")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 {
		fail("bad checkpoint size %q", lines[1])
	}
	h, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("bad checkpoint root: %v", err)
	}
	return lines[0], n, h
}

// field returns the value of the first line starting with "name ".
func field(text, name string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l[len(name)+1:]
		}
	}
	return ""
}

func main() {
	if len(os.Args) < 2 {
		fail("usage: goverify BUNDLE [-old FILE]... [-proof FILE]... [-auditor VKEYFILE]")
	}
	dir := os.Args[1]
	var olds, proofs []string
	auditor := ""
	for i := 2; i+1 < len(os.Args); i += 2 {
		switch os.Args[i] {
		case "-old":
			olds = append(olds, os.Args[i+1])
		case "-proof":
			proofs = append(proofs, os.Args[i+1])
		case "-auditor":
			auditor = os.Args[i+1]
		default:
			fail("unknown option %s", os.Args[i])
		}
	}

	logV, err := note.NewVerifier(strings.TrimSpace(string(read(filepath.Join(dir, "log.vkey")))))
	if err != nil {
		fail("log.vkey: %v", err)
	}
	logVs := note.VerifierList(logV)
	cp, err := note.Open(read(filepath.Join(dir, "checkpoint")), logVs)
	if err != nil {
		fail("checkpoint: %v", err)
	}
	origin, size, root := parseCheckpoint(cp.Text)
	if origin != logV.Name() {
		fail("checkpoint origin %q is not the log key's name %q", origin, logV.Name())
	}

	// Every entry: the key chain with note.Open, then the tree with tlog.
	var stored []tlog.Hash
	hr := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			if x >= int64(len(stored)) {
				return nil, fmt.Errorf("hash %d not stored", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	signer := logVs
	prevLeaf := ""
	for i := int64(0); i < size; i++ {
		data := read(filepath.Join(dir, "entries", strconv.FormatInt(i, 10)))
		n, err := note.Open(data, signer)
		if err != nil {
			fail("entry %d: %v", i, err)
		}
		if field(n.Text, "index") != strconv.FormatInt(i, 10) {
			fail("entry %d: index line says %q", i, field(n.Text, "index"))
		}
		if i > 0 && field(n.Text, "prev") != prevLeaf {
			fail("entry %d: prev does not match entry %d", i, i-1)
		}
		next, err := note.NewVerifier(field(n.Text, "next-key"))
		if err != nil {
			fail("entry %d: next-key: %v", i, err)
		}
		signer = note.VerifierList(next)
		h := tlog.RecordHash(data)
		prevLeaf = base64.StdEncoding.EncodeToString(h[:])
		hs, err := tlog.StoredHashes(i, data, hr)
		if err != nil {
			fail("entry %d: %v", i, err)
		}
		stored = append(stored, hs...)
	}
	th, err := tlog.TreeHash(size, hr)
	if err != nil {
		fail("tree hash: %v", err)
	}
	if th != root {
		fail("root of entries 0..%d is %v, the checkpoint says %v", size-1, th, root)
	}

	// Older checkpoints: signature and consistency (tlog.ProveTree / CheckTree).
	for _, f := range olds {
		o, err := note.Open(read(f), logVs)
		if err != nil {
			fail("%s: %v", f, err)
		}
		_, osize, oroot := parseCheckpoint(o.Text)
		if osize > size {
			fail("%s: size %d is larger than the ledger's %d (truncated?)", f, osize, size)
		}
		p, err := tlog.ProveTree(size, osize, hr)
		if err == nil {
			err = tlog.CheckTree(p, size, root, osize, oroot)
		}
		if err != nil {
			fail("%s: not consistent with the ledger: %v", f, err)
		}
		// The bundle's own consistency proof for that size must check too.
		if pf, err := os.ReadFile(filepath.Join(dir, "proofs",
			fmt.Sprintf("consistency-%d-%d", osize, size))); err == nil && osize < size {
			var tp tlog.TreeProof
			for _, l := range strings.Fields(string(pf)) {
				h, err := tlog.ParseHash(l)
				if err != nil {
					fail("bundle proof: %v", err)
				}
				tp = append(tp, h)
			}
			if err := tlog.CheckTree(tp, size, root, osize, oroot); err != nil {
				fail("bundle consistency proof %d-%d: %v", osize, size, err)
			}
		}
	}

	// Inclusion proofs printed by 'mediagate ledger prove'.
	for _, f := range proofs {
		parts := strings.SplitN(string(read(f)), "\n\n", 2)
		if len(parts) != 2 {
			fail("%s: no checkpoint after the proof", f)
		}
		pc, err := note.Open([]byte(parts[1]), logVs)
		if err != nil {
			fail("%s: checkpoint: %v", f, err)
		}
		_, psize, proot := parseCheckpoint(pc.Text)
		lines := strings.Split(strings.TrimSpace(parts[0]), "\n")
		if len(lines) < 5 || lines[0] != "mediagate-ledger-proof/v1" {
			fail("%s: not a proof", f)
		}
		idx, _ := strconv.ParseInt(strings.TrimPrefix(lines[2], "index "), 10, 64)
		sz, _ := strconv.ParseInt(strings.TrimPrefix(lines[3], "size "), 10, 64)
		leaf, err := tlog.ParseHash(strings.TrimPrefix(lines[4], "leaf "))
		if err != nil || sz != psize {
			fail("%s: malformed proof", f)
		}
		var rp tlog.RecordProof
		for _, l := range lines[5:] {
			h, err := tlog.ParseHash(l)
			if err != nil {
				fail("%s: %v", f, err)
			}
			rp = append(rp, h)
		}
		if err := tlog.CheckRecord(rp, psize, proot, idx, leaf); err != nil {
			fail("%s: inclusion proof: %v", f, err)
		}
		if idx < size && tlog.RecordHash(read(filepath.Join(dir, "entries",
			strconv.FormatInt(idx, 10)))) != leaf {
			fail("%s: leaf is not entry %d", f, idx)
		}
	}

	// Auditor cosignatures (tlog-cosignature v1.0.1, signature type 0x04), checked by hand:
	// x/mod's note package predates that type.
	ncos := 0
	if auditor != "" {
		vk := strings.TrimSpace(string(read(auditor)))
		p := strings.SplitN(vk, "+", 3)
		raw, err := base64.StdEncoding.DecodeString(p[2])
		if len(p) != 3 || err != nil || len(raw) != 33 || raw[0] != 4 {
			fail("auditor vkey malformed")
		}
		kh := sha256.Sum256(append([]byte(p[0]+"\n"), raw...))
		id := binary.BigEndian.Uint32(kh[:4])
		if fmt.Sprintf("%08x", id) != p[1] {
			fail("auditor vkey id mismatch")
		}
		files, _ := filepath.Glob(filepath.Join(dir, "cosignatures", "*"))
		for _, f := range files {
			data := read(f)
			i := bytes.LastIndex(data, []byte("\n\n"))
			text, sigs := data[:i+1], string(data[i+2:])
			found := false
			for _, l := range strings.Split(sigs, "\n") {
				if !strings.HasPrefix(l, "\u2014 "+p[0]+" ") {
					continue
				}
				sig, err := base64.StdEncoding.DecodeString(l[len("\u2014 "+p[0]+" "):])
				if err != nil || len(sig) != 4+8+64 || binary.BigEndian.Uint32(sig) != id {
					continue
				}
				ts := binary.BigEndian.Uint64(sig[4:12])
				msg := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", ts)), text...)
				if !ed25519.Verify(ed25519.PublicKey(raw[1:]), msg, sig[12:]) {
					fail("%s: bad cosignature", f)
				}
				found = true
			}
			if !found {
				fail("%s: no cosignature by the auditor", f)
			}
			if _, err := note.Open(data, logVs); err != nil {
				fail("%s: log signature: %v", f, err)
			}
			ncos++
		}
	}
	fmt.Printf("goverify: OK: %d entries, root %v, %d older checkpoints, %d proofs, %d cosignatures\n",
		size, root, len(olds), len(proofs), ncos)
}
