package localstate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kie-community/terraform-provider-kie/internal/localfile"
)

// FileIndex lets a plan skip re-hashing output files nobody touched, the way git's index does: it
// remembers, per file, the hash it last computed and the file's size, modification time, change time,
// inode and device at that moment. A file whose metadata all still match is taken as unchanged. Any
// write changes the change time (which no tool can set back), a rename changes the inode, so a changed
// file is always hashed again.
//
// The exception is git's "racily clean" entry: a file modified within racyWindow of the moment its entry
// was recorded could be rewritten again within the same timestamp tick without any metadata changing,
// so such an entry is never trusted; the next check hashes the file and records it anew.
//
// The index is a cache on this machine only (inodes mean nothing elsewhere), one small file per output
// file under FileIndexDir(). Losing it only costs hashing again.
type FileIndex struct {
	dir  string
	now  func() time.Time
	hash func(string) (string, int64, error)
}

// racyWindow covers the coarsest timestamps of common file systems (FAT's 2 s).
const racyWindow = 2 * time.Second

// NewFileIndex opens the index kept in dir.
func NewFileIndex(dir string) *FileIndex {
	return &FileIndex{dir: dir, now: time.Now, hash: localfile.Hash}
}

// indexEntry is what the index remembers of one file.
type indexEntry struct {
	SHA256   string    `json:"sha256"`
	Stat     fileStamp `json:"stat"`
	Recorded int64     `json:"recorded_unix_nano"`
}

// fileStamp is the metadata that changes when a file's content may have.
type fileStamp struct {
	Size    int64  `json:"size"`
	ModNano int64  `json:"mtime_ns"`
	ChNano  int64  `json:"ctime_ns"`
	Inode   uint64 `json:"inode"`
	Device  uint64 `json:"device"`
}

// Intact reports whether the file at p still is the one with this hash and size, hashing it only when
// the index cannot vouch for it.
func (x *FileIndex) Intact(p, wantSHA string, wantSize int64) bool {
	info, err := os.Stat(p)
	if err != nil || !info.Mode().IsRegular() || info.Size() != wantSize {
		return false
	}
	// The index is only consulted (and written) where the platform gives full stamps.
	stamp, stamped := stampOf(info)
	abs, err := filepath.Abs(p)
	stamped = stamped && err == nil
	if stamped {
		if e, ok := x.load(abs); ok && e.SHA256 == wantSHA && e.Stat == stamp && !e.racy() {
			return true
		}
	}
	got, n, err := x.hash(p)
	if err != nil || got != wantSHA || n != wantSize {
		return false
	}
	if stamped {
		// Only a stamp taken before the hash may be recorded: one taken after could belong to a write
		// that happened while hashing. A changed stamp just means no entry this time.
		if again, err := os.Stat(p); err == nil {
			if s2, ok := stampOf(again); ok && s2 == stamp {
				_ = x.store(abs, indexEntry{SHA256: got, Stat: stamp, Recorded: x.now().UnixNano()})
			}
		}
	}
	return true
}

// Intact checks a file without any index: size first, then the hash.
func Intact(p, wantSHA string, wantSize int64) bool {
	info, err := os.Stat(p)
	if err != nil || !info.Mode().IsRegular() || info.Size() != wantSize {
		return false
	}
	got, n, err := localfile.Hash(p)
	return err == nil && got == wantSHA && n == wantSize
}

// racy reports an entry recorded too soon after the file's last change to be trusted.
func (e indexEntry) racy() bool {
	last := max(e.Stat.ModNano, e.Stat.ChNano)
	return e.Recorded-last < int64(racyWindow)
}

func (x *FileIndex) file(abs string) string {
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(x.dir, hex.EncodeToString(sum[:16])+".json")
}

func (x *FileIndex) load(abs string) (indexEntry, bool) {
	var e indexEntry
	b, err := os.ReadFile(x.file(abs))
	if err != nil || json.Unmarshal(b, &e) != nil {
		return e, false
	}
	return e, true
}

// store writes an entry atomically; a failure only means hashing again next time.
func (x *FileIndex) store(abs string, e indexEntry) error {
	if err := writeJSON(x.dir, x.file(abs), e); err != nil {
		return fmt.Errorf("file index: %w", err)
	}
	return nil
}
