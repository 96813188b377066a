// Command verify is Cairn's interoperability oracle: it checks, with the Go
// reference implementations golang.org/x/mod/sumdb/note and
// golang.org/x/mod/sumdb/tlog, the notes, checkpoints and proofs that
// Cairn's TypeScript core produces, and produces notes and proofs for the
// TypeScript side to compare byte for byte. test/interop/go.test.ts builds
// and drives it.
//
// Input on stdin: a JSON array of cases, each an object with a "kind".
// Output on stdout: a JSON array with one result per case, in order. A
// result always has "ok" and, when ok is false, "error"; the other fields
// depend on the kind (see the case types below). Bytes travel as standard
// padded base64; note texts travel as JSON strings.
//
// Go's note package knows only signature type 0x01 (Ed25519). Cosignatures
// (c2sp.org/tlog-cosignature, type 0x04) are checked twice: note.Open with
// the Ed25519 keys alone must accept the note (a cosignature line is an
// unknown key, which the note format says to ignore), and note.Open with the
// cosigner keys as well, through cosigV1Verifier below, must accept every
// cosignature.
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const (
	algEd25519       = 0x01
	algCosignatureV1 = 0x04
)

// Case holds the fields of every kind; each kind reads its own.
type Case struct {
	Kind string `json:"kind"`

	// note: open Note with VKeys (0x01 and 0x04 verifier keys).
	Note  string   `json:"note,omitempty"`
	VKeys []string `json:"vkeys,omitempty"`

	// inclusion: tlog.CheckRecord(Proof, Size, Root, Index, LeafHash).
	LeafHash string   `json:"leafHash,omitempty"`
	Index    int64    `json:"index,omitempty"`
	Size     int64    `json:"size,omitempty"`
	Proof    []string `json:"proof,omitempty"`
	Root     string   `json:"root,omitempty"`

	// consistency: tlog.CheckTree(Proof, NewSize, NewRoot, OldSize, OldRoot).
	OldSize int64  `json:"oldSize,omitempty"`
	NewSize int64  `json:"newSize,omitempty"`
	OldRoot string `json:"oldRoot,omitempty"`
	NewRoot string `json:"newRoot,omitempty"`

	// checkpoint: parse Body (a checkpoint note text).
	Body string `json:"body,omitempty"`

	// tree: hash the records Leaves (raw data) with tlog and report roots,
	// proofs and the stored-hash layout for every size up to len(Leaves).
	Leaves []string `json:"leaves,omitempty"`

	// sign: note.Sign(Text) with SKey (type 0x01), then add a cosignature
	// per Cosigners entry, the way a Go witness would.
	Text      string     `json:"text,omitempty"`
	SKey      string     `json:"skey,omitempty"`
	Cosigners []Cosigner `json:"cosigners,omitempty"`
}

// Cosigner is a type-0x04 signer key and the timestamp it signs with.
type Cosigner struct {
	SKey string `json:"skey"`
	Time uint64 `json:"time"`
}

// Sig is a signature line as note.Open reports it.
type Sig struct {
	Name  string  `json:"name"`
	KeyID string  `json:"keyId"`
	Time  *uint64 `json:"time,omitempty"`
}

type Result struct {
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`

	// note
	Text       string `json:"text,omitempty"`
	Sigs       []Sig  `json:"sigs,omitempty"`
	Unverified []Sig  `json:"unverified,omitempty"`

	// checkpoint
	Origin     string   `json:"origin,omitempty"`
	Size       *int64   `json:"size,omitempty"`
	Root       string   `json:"root,omitempty"`
	Extensions []string `json:"extensions,omitempty"`

	// tree
	LeafHashes  []string            `json:"leafHashes,omitempty"`
	Roots       []string            `json:"roots,omitempty"`
	Inclusion   map[string][]string `json:"inclusion,omitempty"`
	Consistency map[string][]string `json:"consistency,omitempty"`
	StoredCount []int64             `json:"storedCount,omitempty"`
	StoredIndex map[string]int64    `json:"storedIndex,omitempty"`
	SplitIndex  map[string][2]int64 `json:"splitIndex,omitempty"`

	// sign
	Signed string `json:"signed,omitempty"`
}

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail(err)
	}
	var cases []Case
	if err := json.Unmarshal(in, &cases); err != nil {
		fail(err)
	}
	out := make([]Result, len(cases))
	for i, c := range cases {
		out[i] = run(c)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "verify:", err)
	os.Exit(2)
}

func run(c Case) (r Result) {
	defer func() {
		if p := recover(); p != nil {
			r = Result{Error: fmt.Sprintf("panic: %v", p)}
		}
	}()
	var err error
	switch c.Kind {
	case "note":
		r, err = openNote(c)
	case "inclusion":
		err = checkInclusion(c)
	case "consistency":
		err = checkConsistency(c)
	case "checkpoint":
		r, err = parseCheckpoint(c.Body)
	case "tree":
		r, err = tree(c.Leaves)
	case "sign":
		r, err = sign(c)
	default:
		err = fmt.Errorf("unknown case kind %q", c.Kind)
	}
	if err != nil {
		return Result{Error: err.Error()}
	}
	r.OK = true
	return r
}

// ---------------------------------------------------------------------------
// Notes.

// keyHash is the C2SP key id: SHA-256(name || "\n" || type || key)[:4].
func keyHash(name string, typedKey []byte) uint32 {
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte("\n"))
	h.Write(typedKey)
	return binary.BigEndian.Uint32(h.Sum(nil))
}

// splitKey splits "name+hexid+base64" as note.NewVerifier does and checks
// the key id.
func splitKey(key string) (name string, id uint32, material []byte, err error) {
	parts := strings.SplitN(key, "+", 3)
	if len(parts) != 3 || len(parts[1]) != 8 {
		return "", 0, nil, errors.New("malformed key")
	}
	h, err1 := strconv.ParseUint(parts[1], 16, 32)
	m, err2 := base64.StdEncoding.DecodeString(parts[2])
	if err1 != nil || err2 != nil || len(m) == 0 {
		return "", 0, nil, errors.New("malformed key")
	}
	return parts[0], uint32(h), m, nil
}

func cosignatureMessage(t uint64, body []byte) []byte {
	return append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), body...)
}

// cosigV1Verifier is a note.Verifier for c2sp.org/tlog-cosignature
// cosignature/v1 keys: the signature is timestamp (8, big-endian) || Ed25519
// signature over "cosignature/v1\ntime <t>\n" || note text.
type cosigV1Verifier struct {
	name string
	hash uint32
	key  ed25519.PublicKey
	// times records the timestamp of each verified signature, by its bytes.
	times map[string]uint64
}

func newCosigV1Verifier(vkey string) (*cosigV1Verifier, error) {
	name, id, m, err := splitKey(vkey)
	if err != nil {
		return nil, err
	}
	if m[0] != algCosignatureV1 || len(m) != 1+ed25519.PublicKeySize {
		return nil, errors.New("not a cosignature/v1 verifier key")
	}
	if keyHash(name, m) != id {
		return nil, errors.New("cosignature/v1 verifier key id does not match")
	}
	return &cosigV1Verifier{name: name, hash: id, key: ed25519.PublicKey(m[1:]), times: map[string]uint64{}}, nil
}

func (v *cosigV1Verifier) Name() string    { return v.name }
func (v *cosigV1Verifier) KeyHash() uint32 { return v.hash }
func (v *cosigV1Verifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t > math.MaxInt64 {
		return false
	}
	if !ed25519.Verify(v.key, cosignatureMessage(t, msg), sig[8:]) {
		return false
	}
	v.times[string(sig)] = t
	return true
}

func openNote(c Case) (Result, error) {
	var plain, all []note.Verifier
	var cosigners []*cosigV1Verifier
	for _, k := range c.VKeys {
		if _, _, m, err := splitKey(k); err == nil && m[0] == algCosignatureV1 {
			v, err := newCosigV1Verifier(k)
			if err != nil {
				return Result{}, fmt.Errorf("verifier key %q: %v", k, err)
			}
			cosigners = append(cosigners, v)
			all = append(all, v)
			continue
		}
		v, err := note.NewVerifier(k)
		if err != nil {
			return Result{}, fmt.Errorf("verifier key %q: %v", k, err)
		}
		plain = append(plain, v)
		all = append(all, v)
	}
	msg := []byte(c.Note)

	// Go's own rules and keys: cosignature lines are unknown keys, ignored.
	n, err := note.Open(msg, note.VerifierList(plain...))
	if err != nil {
		return Result{}, fmt.Errorf("note.Open: %v", err)
	}
	if len(cosigners) > 0 {
		n, err = note.Open(msg, note.VerifierList(all...))
		if err != nil {
			return Result{}, fmt.Errorf("note.Open with cosigner keys: %v", err)
		}
	}
	r := Result{Text: n.Text}
	for _, s := range n.Sigs {
		sig := Sig{Name: s.Name, KeyID: fmt.Sprintf("%08x", s.Hash)}
		raw, _ := base64.StdEncoding.DecodeString(s.Base64)
		for _, v := range cosigners {
			if v.name == s.Name && v.hash == s.Hash {
				if t, ok := v.times[string(raw[4:])]; ok {
					sig.Time = &t
				}
			}
		}
		r.Sigs = append(r.Sigs, sig)
	}
	for _, s := range n.UnverifiedSigs {
		r.Unverified = append(r.Unverified, Sig{Name: s.Name, KeyID: fmt.Sprintf("%08x", s.Hash)})
	}
	return r, nil
}

// cosigV1Signer is a note.Signer for a cosignature/v1 key at a fixed time.
type cosigV1Signer struct {
	name string
	hash uint32
	key  ed25519.PrivateKey
	time uint64
}

func (s *cosigV1Signer) Name() string    { return s.name }
func (s *cosigV1Signer) KeyHash() uint32 { return s.hash }
func (s *cosigV1Signer) Sign(msg []byte) ([]byte, error) {
	sig := make([]byte, 8, 8+ed25519.SignatureSize)
	binary.BigEndian.PutUint64(sig, s.time)
	return append(sig, ed25519.Sign(s.key, cosignatureMessage(s.time, msg))...), nil
}

func newCosigV1Signer(skey string, t uint64) (*cosigV1Signer, error) {
	if !strings.HasPrefix(skey, "PRIVATE+KEY+") {
		return nil, errors.New("malformed cosigner key")
	}
	name, id, m, err := splitKey(strings.TrimPrefix(skey, "PRIVATE+KEY+"))
	if err != nil {
		return nil, err
	}
	if m[0] != algCosignatureV1 || len(m) != 1+ed25519.SeedSize {
		return nil, errors.New("not a cosignature/v1 signer key")
	}
	key := ed25519.NewKeyFromSeed(m[1:])
	pub := append([]byte{algCosignatureV1}, key.Public().(ed25519.PublicKey)...)
	if keyHash(name, pub) != id {
		return nil, errors.New("cosignature/v1 signer key id does not match")
	}
	return &cosigV1Signer{name: name, hash: id, key: key, time: t}, nil
}

// sign signs Text with SKey using note.Sign, then adds each cosignature in
// turn: open the note with the log's key and re-sign it with the cosigner,
// which keeps the existing lines and appends the new one.
func sign(c Case) (Result, error) {
	signer, err := note.NewSigner(c.SKey)
	if err != nil {
		return Result{}, fmt.Errorf("note.NewSigner: %v", err)
	}
	msg, err := note.Sign(&note.Note{Text: c.Text}, signer)
	if err != nil {
		return Result{}, fmt.Errorf("note.Sign: %v", err)
	}
	if len(c.Cosigners) > 0 {
		verifier := signerVerifier{signer}
		for _, cs := range c.Cosigners {
			cosigner, err := newCosigV1Signer(cs.SKey, cs.Time)
			if err != nil {
				return Result{}, err
			}
			n, err := note.Open(msg, note.VerifierList(verifier))
			if err != nil {
				return Result{}, fmt.Errorf("note.Open before cosigning: %v", err)
			}
			if msg, err = note.Sign(n, cosigner); err != nil {
				return Result{}, fmt.Errorf("note.Sign (cosignature): %v", err)
			}
		}
	}
	return Result{Signed: string(msg)}, nil
}

// signerVerifier accepts the lines of one signer by name and key id, for
// reopening a note this program just signed.
type signerVerifier struct{ s note.Signer }

func (v signerVerifier) Name() string            { return v.s.Name() }
func (v signerVerifier) KeyHash() uint32         { return v.s.KeyHash() }
func (v signerVerifier) Verify(_, _ []byte) bool { return true }

// ---------------------------------------------------------------------------
// Checkpoints.

// parseCheckpoint reads a c2sp.org/tlog-checkpoint body: origin, decimal
// size, base64 root hash, then extension lines. The size and root are read
// by tlog.ParseTree itself, fed the same body under the go.sum tree header.
func parseCheckpoint(body string) (Result, error) {
	if !strings.HasSuffix(body, "\n") {
		return Result{}, errors.New("checkpoint does not end with a newline")
	}
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) < 3 || lines[0] == "" {
		return Result{}, errors.New("checkpoint needs origin, size and root lines")
	}
	goSum := "go.sum database tree\n" + strings.Join(lines[1:3], "\n") + "\n"
	t, err := tlog.ParseTree([]byte(goSum))
	if err != nil {
		return Result{}, fmt.Errorf("tlog.ParseTree: %v", err)
	}
	if base64.StdEncoding.EncodeToString(t.Hash[:]) != lines[2] {
		return Result{}, errors.New("root hash is not canonical base64")
	}
	size := t.N
	return Result{Origin: lines[0], Size: &size, Root: lines[2], Extensions: lines[3:]}, nil
}

// ---------------------------------------------------------------------------
// Proofs.

func parseHashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		h, err := tlog.ParseHash(s)
		if err != nil {
			return nil, fmt.Errorf("hash %d: %v", i, err)
		}
		out[i] = h
	}
	return out, nil
}

func checkInclusion(c Case) error {
	proof, err := parseHashes(c.Proof)
	if err != nil {
		return err
	}
	hs, err := parseHashes([]string{c.LeafHash, c.Root})
	if err != nil {
		return err
	}
	return tlog.CheckRecord(tlog.RecordProof(proof), c.Size, hs[1], c.Index, hs[0])
}

func checkConsistency(c Case) error {
	proof, err := parseHashes(c.Proof)
	if err != nil {
		return err
	}
	hs, err := parseHashes([]string{c.OldRoot, c.NewRoot})
	if err != nil {
		return err
	}
	return tlog.CheckTree(tlog.TreeProof(proof), c.NewSize, hs[1], c.OldSize, hs[0])
}

// tree stores the records with tlog's own stored-hash layout and reports
// what Go computes from it for every size: roots, inclusion and consistency
// proofs, and the layout's indexes.
func tree(leaves []string) (Result, error) {
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(indexes []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(indexes))
		for i, x := range indexes {
			if x < 0 || x >= int64(len(stored)) {
				return nil, fmt.Errorf("no stored hash %d", x)
			}
			out[i] = stored[x]
		}
		return out, nil
	})
	r := Result{Inclusion: map[string][]string{}, Consistency: map[string][]string{}, StoredIndex: map[string]int64{}, SplitIndex: map[string][2]int64{}}
	b64 := func(h tlog.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }
	proof := func(p []tlog.Hash) []string {
		out := make([]string, len(p))
		for i, h := range p {
			out[i] = b64(h)
		}
		return out
	}
	n := int64(len(leaves))
	for i, l := range leaves {
		data, err := base64.StdEncoding.DecodeString(l)
		if err != nil {
			return Result{}, fmt.Errorf("leaf %d: %v", i, err)
		}
		hashes, err := tlog.StoredHashes(int64(i), data, reader)
		if err != nil {
			return Result{}, err
		}
		stored = append(stored, hashes...)
		r.LeafHashes = append(r.LeafHashes, b64(tlog.RecordHash(data)))
	}
	for t := int64(0); t <= n; t++ {
		root, err := tlog.TreeHash(t, reader)
		if err != nil {
			return Result{}, err
		}
		r.Roots = append(r.Roots, b64(root))
		r.StoredCount = append(r.StoredCount, tlog.StoredHashCount(t))
		for i := int64(0); i < t; i++ {
			p, err := tlog.ProveRecord(t, i, reader)
			if err != nil {
				return Result{}, err
			}
			r.Inclusion[fmt.Sprintf("%d/%d", i, t)] = proof(p)
		}
		for m := int64(1); m <= t; m++ {
			p, err := tlog.ProveTree(t, m, reader)
			if err != nil {
				return Result{}, err
			}
			r.Consistency[fmt.Sprintf("%d/%d", m, t)] = proof(p)
		}
	}
	for level := 0; level <= 8; level++ {
		for i := int64(0); i < 64; i++ {
			r.StoredIndex[fmt.Sprintf("%d/%d", level, i)] = tlog.StoredHashIndex(level, i)
		}
	}
	for x := int64(0); x < 1024; x++ {
		level, i := tlog.SplitStoredHashIndex(x)
		r.SplitIndex[strconv.FormatInt(x, 10)] = [2]int64{int64(level), i}
	}
	return r, nil
}
