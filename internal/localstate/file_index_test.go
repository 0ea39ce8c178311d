//go:build linux || darwin || freebsd || netbsd || openbsd

package localstate

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kie-community/terraform-provider-kie/internal/localfile"
)

// indexFixture is a file with known content and an index whose clock and hashing the test controls.
type indexFixture struct {
	t      *testing.T
	x      *FileIndex
	p      string
	sha    string
	size   int64
	hashes int
	clock  time.Time
}

func newIndexFixture(t *testing.T, content string) *indexFixture {
	t.Helper()
	f := &indexFixture{t: t, p: filepath.Join(t.TempDir(), "img.png")}
	f.x = NewFileIndex(filepath.Join(t.TempDir(), "index"))
	f.x.now = func() time.Time { return f.clock }
	f.x.hash = func(p string) (string, int64, error) {
		f.hashes++
		return localfile.Hash(p)
	}
	f.write(content)
	f.sha, f.size = mustHash(t, f.p), int64(len(content))
	return f
}

func (f *indexFixture) write(content string) {
	f.t.Helper()
	if err := os.WriteFile(f.p, []byte(content), 0o600); err != nil {
		f.t.Fatal(err)
	}
}

func (f *indexFixture) modTime() time.Time {
	f.t.Helper()
	info, err := os.Stat(f.p)
	if err != nil {
		f.t.Fatal(err)
	}
	return info.ModTime()
}

// check runs intact and asserts its answer and whether it hashed the file.
func (f *indexFixture) check(want, wantHash bool) {
	f.t.Helper()
	before := f.hashes
	if got := f.x.Intact(f.p, f.sha, f.size); got != want {
		f.t.Fatalf("intact = %v, want %v", got, want)
	}
	if hashed := f.hashes > before; hashed != wantHash {
		f.t.Fatalf("hashed = %v, want %v", hashed, wantHash)
	}
}

// settle moves the index's clock well past the file's last change, so what it records is trusted.
func (f *indexFixture) settle() { f.clock = time.Now().Add(time.Hour) }

func TestFileIndexSkipsTheHashOfAnUntouchedFile(t *testing.T) {
	f := newIndexFixture(t, "the image bytes")
	f.settle()
	f.check(true, true)  // nothing recorded yet: hash, and record
	f.check(true, false) // recorded and untouched: no hash
	f.check(true, false)
}

// An entry recorded within racyWindow of the file's last change is never trusted: a rewrite in the same
// timestamp tick could leave every stamp as it was. Simulated here by an entry whose stamps match a file
// whose content is not the recorded one.
func TestFileIndexDoesNotTrustRacyEntries(t *testing.T) {
	f := newIndexFixture(t, "content A")
	f.write("content B") // same size, other content
	info, err := os.Stat(f.p)
	if err != nil {
		t.Fatal(err)
	}
	stamp, ok := stampOf(info)
	if !ok {
		t.Fatal("no stamp")
	}
	abs, _ := filepath.Abs(f.p)
	last := max(stamp.ModNano, stamp.ChNano)
	for _, tc := range []struct {
		recordedAfter time.Duration
		want          bool
	}{
		{racyWindow - time.Millisecond, false}, // racy: hashed, and the rewrite is caught
		{0, false},
		{racyWindow + time.Second, true}, // trusted: the stale entry is believed, which is why racy ones are not
	} {
		if err := f.x.store(abs, indexEntry{SHA256: f.sha, Stat: stamp, Recorded: last + int64(tc.recordedAfter)}); err != nil {
			t.Fatal(err)
		}
		f.check(tc.want, !tc.want)
	}
}

// Every way of changing a file that keeps its size is caught once the index trusts the old entry. The
// index's clock is set far ahead, so the entry is trusted although the change follows within the same
// second; a short pause first lets even a coarse file-system clock tick (a change within one tick is
// what the racy rule, tested above, is for).
func TestFileIndexCatchesChangedFiles(t *testing.T) {
	cases := map[string]func(f *indexFixture){
		"same-size rewrite in the same second": func(f *indexFixture) { f.write("the image BYTES") },
		"rewrite then touch -r to the old time": func(f *indexFixture) {
			old := f.modTime()
			f.write("the image BYTES")
			if err := os.Chtimes(f.p, old, old); err != nil {
				t.Fatal(err)
			}
		},
		"replaced by rename, with the old times": func(f *indexFixture) {
			old := f.modTime()
			other := f.p + ".new"
			if err := os.WriteFile(other, []byte("the image BYTES"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(other, old, old); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(other, f.p); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			f := newIndexFixture(t, "the image bytes")
			f.settle()
			f.check(true, true)
			f.check(true, false)
			time.Sleep(20 * time.Millisecond)
			change(f)
			f.check(false, true)
		})
	}
}

// touch changes no content: the file is hashed again (its stamps changed), still intact, and trusted again.
func TestFileIndexTouchHashesAgain(t *testing.T) {
	f := newIndexFixture(t, "the image bytes")
	f.settle()
	f.check(true, true)
	f.check(true, false)
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(f.p, later, later); err != nil {
		t.Fatal(err)
	}
	f.check(true, true)
	f.check(true, false)
}

func TestFileIndexSurvivesADamagedIndex(t *testing.T) {
	f := newIndexFixture(t, "the image bytes")
	f.settle()
	f.check(true, true)
	abs, _ := filepath.Abs(f.p)
	if err := os.WriteFile(f.x.file(abs), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.check(true, true)
	f.check(true, false)
	f.write("other")
	f.check(false, false) // a different size is caught before any hash or index lookup
}

func mustHash(t *testing.T, p string) string {
	t.Helper()
	sum, _, err := localfile.Hash(p)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestIntactWithoutIndex(t *testing.T) {
	p := filepath.Join(t.TempDir(), "img.png")
	if err := os.WriteFile(p, []byte("image"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := mustHash(t, p)
	if !Intact(p, sum, 5) {
		t.Fatal("an unchanged file is not intact")
	}
	if Intact(p, sum, 6) || Intact(p, "00", 5) || Intact(p+".missing", sum, 5) {
		t.Fatal("a wrong size, hash or a missing file counted as intact")
	}
}
