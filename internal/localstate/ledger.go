package localstate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// LedgerMaxAge is how long a recorded task is offered: KIE keeps results for 14 days.
const LedgerMaxAge = 14 * 24 * time.Hour

// ledgerEntry is one file of the ledger.
type ledgerEntry struct {
	BaseURL  string    `json:"base_url"`
	Key      string    `json:"key"`
	TaskID   string    `json:"task_id"`
	Recorded time.Time `json:"recorded"`
	// Buried marks a task that can never finish: it is kept only so it is not recorded again.
	Buried bool `json:"buried,omitempty"`
}

// Ledger is the resume ledger: paid tasks that were accepted but did not end in state, offered to the
// next create with the same key. Files make it outlive the provider process; claims keep two creates
// of one process from taking the same task.
type Ledger struct {
	mu      sync.Mutex
	dir     string
	baseURL string
	now     func() time.Time
	claimed map[string]bool // task ids a create of this process took
	// ended tasks are not recorded again by this process: the old object of a create_before_destroy
	// replacement is read after its task ended.
	ended map[string]bool
}

// NewLedger opens the ledger in dir for one API base URL; only tasks of that API are offered.
func NewLedger(dir, baseURL string) *Ledger {
	return &Ledger{dir: dir, baseURL: baseURL, now: time.Now,
		claimed: map[string]bool{}, ended: map[string]bool{}}
}

func (l *Ledger) file(taskID string) string {
	sum := sha256.Sum256([]byte(l.baseURL + "\x00" + taskID))
	return filepath.Join(l.dir, hex.EncodeToString(sum[:16])+".json")
}

// Record offers a task for resuming and reports whether it was new. A buried or ended task is not
// recorded again.
func (l *Ledger) Record(key, taskID string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended[taskID] {
		return false, nil
	}
	if e, err := l.read(l.file(taskID)); err == nil && e.TaskID == taskID {
		if e.Buried || e.Key == key {
			return false, nil
		}
	}
	return true, l.write(ledgerEntry{BaseURL: l.baseURL, Key: key, TaskID: taskID, Recorded: l.now().UTC()})
}

// Hold records a task a create of this process just started, as claimed by that create: another
// create of this process with the same key must not take it (the next process may).
func (l *Ledger) Hold(key, taskID string) (bool, error) {
	l.mu.Lock()
	l.claimed[taskID] = true
	l.mu.Unlock()
	return l.Record(key, taskID)
}

// Forget removes a task that ended: its results are in state, or it failed at KIE.
func (l *Ledger) Forget(taskID string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended[taskID] = true
	if err := os.Remove(l.file(taskID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("resume ledger: %w", err)
	}
	return nil
}

// Bury marks a task that can never finish, so that no later run offers it again.
func (l *Ledger) Bury(taskID string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ended[taskID] = true
	return l.write(ledgerEntry{BaseURL: l.baseURL, TaskID: taskID, Recorded: l.now().UTC(), Buried: true})
}

// Take claims the oldest recorded task with this key for a create of this process. The entry stays on
// disk until Forget, so a crash before the task ends still leaves it for the next run.
func (l *Ledger) Take(key string) (string, bool) {
	return l.claim(key, l.claimed)
}

// Announce picks, for a plan, the task a create with this key will take. announced holds the task ids
// already announced in the same plan (graph walk), so that identical creates announce different tasks.
func (l *Ledger) Announce(key string, announced map[string]bool) (string, bool) {
	return l.claim(key, announced)
}

func (l *Ledger) claim(key string, claims map[string]bool) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.entries() {
		if !e.Buried && e.Key == key && !claims[e.TaskID] {
			claims[e.TaskID] = true
			return e.TaskID, true
		}
	}
	return "", false
}

// entries lists this API's live entries, oldest first, dropping those past LedgerMaxAge.
func (l *Ledger) entries() []ledgerEntry {
	names, err := os.ReadDir(l.dir)
	if err != nil {
		return nil
	}
	var out []ledgerEntry
	for _, n := range names {
		if !strings.HasSuffix(n.Name(), ".json") {
			continue
		}
		p := filepath.Join(l.dir, n.Name())
		e, err := l.read(p)
		if err != nil || e.BaseURL != l.baseURL {
			continue
		}
		if l.now().Sub(e.Recorded) > LedgerMaxAge {
			_ = os.Remove(p)
			continue
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Recorded.Before(out[j].Recorded) })
	return out
}

func (l *Ledger) read(p string) (ledgerEntry, error) {
	var e ledgerEntry
	b, err := os.ReadFile(p) //nolint:gosec // a file of the ledger's own folder
	if err != nil {
		return e, err
	}
	return e, json.Unmarshal(b, &e)
}

func (l *Ledger) write(e ledgerEntry) error {
	if err := writeJSON(l.dir, l.file(e.TaskID), e); err != nil {
		return fmt.Errorf("resume ledger: %w", err)
	}
	return nil
}
