package provider

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"

	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// The fault matrix: every fault test registers the fault it injects here, and what it expects of it.
// When the test ends, a cleanup records the mock's counters and whether the expectation held, and fails
// the test on an extra paid task, a leaked secret or a leftover temporary file, whatever the test itself
// asserted. printFaultSummary prints the table; TestMain calls it after m.Run.

// Expectations of a fault.
const (
	expectSurvived = "survived"           // the apply succeeded despite the fault
	expectFailed   = "failed as expected" // the apply failed, with the error the user needs
)

// faultRow is one injected fault (or fault scenario) of one test.
type faultRow struct {
	test, promise, fault, expect string

	// Filled in when the test ends.
	outcome string
	posts   int // create POSTs the mock received (Flux generate and Market createTask)
	tasks   int // paid tasks the mock created
	wanted  int // paid tasks the configuration asked for (including explicit replacements)
	leaks   int // secret leaks found; -1 when the test did not scan for them
	temps   int // leftover temporary files; -1 when the test wrote no files
}

type faultCollector struct {
	mu   sync.Mutex
	rows []*faultRow
}

var faultMatrix = &faultCollector{}

// trackFault registers a fault scenario of t against srv. wanted is the number of paid tasks the test's
// configurations ask for; dirs are the output folders to search for leftover temporary files. Call it
// after the first t.TempDir() of the test, so its cleanup runs before the folders are removed.
func trackFault(t *testing.T, srv *kiemock.Server, promise, fault, expect string, wanted int, dirs ...string) *faultRow {
	t.Helper()
	row := &faultRow{test: t.Name(), promise: promise, fault: fault, expect: expect, wanted: wanted, leaks: -1, temps: -1}
	faultMatrix.add(row)
	t.Cleanup(func() {
		st := srv.Stats()
		temps := -1
		if len(dirs) > 0 {
			temps = 0
			for _, d := range dirs {
				temps += len(tempFiles(d))
			}
		}
		faultMatrix.mu.Lock()
		row.posts, row.tasks, row.temps = createPosts(st), st.TasksCreated, temps
		leaks := row.leaks
		faultMatrix.mu.Unlock()

		if extra := st.TasksCreated - wanted; extra > 0 {
			t.Errorf("fault matrix: %d paid task(s) beyond the %d the configuration asked for (POSTs %d)", extra, wanted, createPosts(st))
		}
		if temps > 0 {
			t.Errorf("fault matrix: %d temporary file(s) left in %v", temps, dirs)
		}
		if leaks > 0 {
			t.Errorf("fault matrix: %d secret leak(s)", leaks)
		}
		outcome := expect
		if t.Failed() {
			outcome = "FAILED"
		}
		faultMatrix.mu.Lock()
		row.outcome = outcome
		faultMatrix.mu.Unlock()
	})
	return row
}

// setLeaks records how many secret leaks a scan found.
func (r *faultRow) setLeaks(n int) {
	faultMatrix.mu.Lock()
	defer faultMatrix.mu.Unlock()
	r.leaks = n
}

func (c *faultCollector) add(r *faultRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rows = append(c.rows, r)
}

// printFaultSummary prints the fault matrix of this test run to stdout; nothing when no fault test ran.
// TestMain calls it after m.Run; go test shows it with -v, or when the package fails.
func printFaultSummary() {
	faultMatrix.write(os.Stdout)
}

func (c *faultCollector) write(w io.Writer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.rows) == 0 {
		return
	}
	rows := slices.Clone(c.rows)
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].promise != rows[j].promise {
			return rows[i].promise < rows[j].promise
		}
		return rows[i].test < rows[j].test
	})
	held, extraPaid, leaks, temps := 0, 0, 0, 0
	for _, r := range rows {
		if r.outcome == r.expect {
			held++
		}
		extraPaid += max(0, r.tasks-r.wanted)
		leaks += max(0, r.leaks)
		temps += max(0, r.temps)
	}
	fmt.Fprintf(w, "\nFault matrix: %d scenarios, %d held, %d failed or unfinished; extra paid tasks %d, leaked secrets %d, leftover temp files %d\n",
		len(rows), held, len(rows)-held, extraPaid, leaks, temps)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROMISE\tFAULT\tEXPECTED\tRESULT\tPOSTS\tTASKS\tEXTRA PAID\tLEAKS\tTEMPS\tTEST")
	for _, r := range rows {
		outcome := r.outcome
		if outcome == "" {
			outcome = "unfinished"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", r.promise, r.fault, r.expect, outcome,
			r.posts, r.tasks, max(0, r.tasks-r.wanted), orDash(r.leaks), orDash(r.temps), r.test)
	}
	_ = tw.Flush()
}

func orDash(n int) string {
	if n < 0 {
		return "-"
	}
	return fmt.Sprint(n)
}

// errText matches phrases in this order anywhere in an error. Terraform wraps diagnostics at 78 columns,
// so the words of a phrase may be separated by any whitespace. A phrase starting with "re:" is a regular
// expression used as is.
func errText(phrases ...string) *regexp.Regexp {
	parts := make([]string, len(phrases))
	for i, p := range phrases {
		if re, ok := strings.CutPrefix(p, "re:"); ok {
			parts[i] = re
			continue
		}
		words := strings.Fields(p)
		for j, w := range words {
			words[j] = regexp.QuoteMeta(w)
		}
		parts[i] = strings.Join(words, `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, `.*`))
}

// taskIDPattern is the mock's task id format.
const taskIDPattern = `fluxkontext_[0-9a-f]{24}`

// stepErrors lets chosen steps of a TestCase fail with an expected error and keeps the error text, which
// ExpectError discards. Use enter as each step's PreConfig and check as the TestCase's ErrorCheck. An
// error of any other step, or one that does not match, still fails the test.
type stepErrors struct {
	mu   sync.Mutex
	cur  int
	want map[int]*regexp.Regexp
	got  map[int]string
}

func newStepErrors() *stepErrors {
	return &stepErrors{want: map[int]*regexp.Regexp{}, got: map[int]string{}}
}

// expect declares that step n (1-based) must fail with an error matching re.
func (s *stepErrors) expect(n int, re *regexp.Regexp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.want[n] = re
}

// enter returns a PreConfig that marks step n as the running one, then runs f.
func (s *stepErrors) enter(n int, f func()) func() {
	return func() {
		s.mu.Lock()
		s.cur = n
		s.mu.Unlock()
		if f != nil {
			f()
		}
	}
}

// check is an ErrorCheckFunc.
func (s *stepErrors) check(err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if re := s.want[s.cur]; re != nil && re.MatchString(err.Error()) {
		s.got[s.cur] = err.Error()
		return nil
	}
	return err
}

// text returns the error step n failed with, and fails the test if it did not fail as declared.
func (s *stepErrors) text(t *testing.T, n int) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	got, ok := s.got[n]
	if !ok {
		t.Fatalf("step %d should have failed with an error matching %s, but it did not fail", n, s.want[n])
	}
	return got
}

// all returns every captured error text.
func (s *stepErrors) all() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.got))
	for _, v := range s.got {
		out = append(out, v)
	}
	return out
}

// counter is one expected value of a mock counter.
type counter struct {
	name    string
	get     func(kiemock.Stats) int
	want    int
	atLeast bool
	upTo    int // with atLeast: the most allowed, when set
}

// between makes c's value a range, want to upTo.
func (c counter) between(upTo int) counter {
	c.atLeast, c.upTo = true, upTo
	return c
}

func postsAre(n int) counter { return counter{name: "generate POSTs", get: posts, want: n} }

// createPosts counts the paid-create requests of both APIs; a test uses one of them.
func createPosts(s kiemock.Stats) int { return s.GenerateRequests + s.MarketCreateRequests }

// marketPostsAre is postsAre for kie_image: createTask POSTs.
func marketPostsAre(n int) counter {
	return counter{name: "createTask POSTs", get: func(s kiemock.Stats) int { return s.MarketCreateRequests }, want: n}
}
func marketPostsAtLeast(n int) counter {
	c := marketPostsAre(n)
	c.atLeast = true
	return c
}
func marketQueriesAtLeast(n int) counter {
	return counter{name: "recordInfo queries", get: func(s kiemock.Stats) int { return s.MarketStatusQueries }, want: n, atLeast: true}
}
func tasksAre(n int) counter {
	return counter{name: "tasks created", get: func(s kiemock.Stats) int { return s.TasksCreated }, want: n}
}
func faultsAre(n int) counter {
	return counter{name: "faults injected", get: func(s kiemock.Stats) int { return s.FaultsInjected }, want: n}
}
func faultsAtLeast(n int) counter {
	c := faultsAre(n)
	c.atLeast = true
	return c
}
func refreshesAtLeast(n int) counter {
	return counter{name: "download-url requests", get: func(s kiemock.Stats) int { return s.DownloadURLRequests }, want: n, atLeast: true}
}

// countsErr compares the mock's counters with the expected values.
func countsErr(srv *kiemock.Server, cs ...counter) error {
	st := srv.Stats()
	var errs []string
	for _, c := range cs {
		got := c.get(st)
		switch {
		case c.atLeast && c.upTo > 0 && (got < c.want || got > c.upTo):
			errs = append(errs, fmt.Sprintf("mock %s = %d, want %d to %d", c.name, got, c.want, c.upTo))
		case c.atLeast && got < c.want:
			errs = append(errs, fmt.Sprintf("mock %s = %d, want at least %d", c.name, got, c.want))
		case !c.atLeast && got != c.want:
			errs = append(errs, fmt.Sprintf("mock %s = %d, want %d", c.name, got, c.want))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s (stats %+v)", strings.Join(errs, "; "), st)
	}
	return nil
}

// checkCounts is countsErr as a TestCheckFunc.
func checkCounts(srv *kiemock.Server, cs ...counter) func(*terraform.State) error {
	return func(*terraform.State) error { return countsErr(srv, cs...) }
}

// requireCounts is countsErr for PreConfig functions and code after resource.Test.
func requireCounts(t *testing.T, srv *kiemock.Server, cs ...counter) {
	t.Helper()
	if err := countsErr(srv, cs...); err != nil {
		t.Fatal(err)
	}
}

// checkOnlyTask asserts that the resource's task id is the one and only task the mock created, and that
// the task succeeded.
func checkOnlyTask(srv *kiemock.Server, addr string) func(*terraform.State) error {
	return func(s *terraform.State) error {
		id, err := stateAttr(s, addr, "task_id")
		if err != nil {
			return err
		}
		tasks := srv.Tasks()
		if len(tasks) != 1 || tasks[0].ID != id {
			ids := make([]string, len(tasks))
			for i, task := range tasks {
				ids[i] = task.ID
			}
			return fmt.Errorf("state holds task %s, the mock has tasks %v", id, ids)
		}
		if tasks[0].SuccessFlag != 1 {
			return fmt.Errorf("task %s has successFlag %d", id, tasks[0].SuccessFlag)
		}
		return nil
	}
}

// dirNames lists a folder's entries, sorted; nil when it does not exist.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// requireDirHolds fails the test unless dir holds exactly the named entries (no temporary files either).
func requireDirHolds(t *testing.T, dir string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := dirNames(t, dir); !slices.Equal(got, want) {
		t.Fatalf("%s holds %q, want exactly %q", dir, got, want)
	}
}

// tempFiles finds temporary files (".<name>.<random>.tmp", as the provider and client write them) under dir.
func tempFiles(dir string) []string {
	var found []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(d.Name(), ".tmp") {
			found = append(found, p)
		}
		return nil
	})
	return found
}

// requireFileBytes fails the test unless the file at p holds exactly want.
func requireFileBytes(t *testing.T, p string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("reading %s: %v", p, err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s changed: %d bytes, want the %d bytes it held before", p, len(got), len(want))
	}
}

// faultImage is the configuration of one image written to out, with extra lines inside the resource.
func faultImage(srv *kiemock.Server, providerExtra []string, out string, extra ...string) string {
	return faultResource(srv, providerExtra, "kie_flux_image", `prompt = "a weathervane on a barn roof"`, out, extra...)
}

// faultResource is the provider block and one resource "test" of type typ: body, then output_path out
// (when set), then extra lines.
func faultResource(srv *kiemock.Server, providerExtra []string, typ, body, out string, extra ...string) string {
	b := "  " + body
	if out != "" {
		b += "\n  output_path = " + hcl(out)
	}
	for _, e := range extra {
		b += "\n  " + e
	}
	return providerBlock(srv, providerExtra...) + "\nresource \"" + typ + "\" \"test\" {\n" + b + "\n}\n"
}

const imageAddr = "kie_flux_image.test"

// The summary counts what matters: scenarios whose expectation did not hold, extra paid tasks, leaks and
// leftover temporary files.
func TestFaultSummaryTable(t *testing.T) {
	c := &faultCollector{}
	var b strings.Builder
	c.write(&b)
	if b.Len() != 0 {
		t.Fatalf("an empty matrix printed %q", b.String())
	}
	c.add(&faultRow{test: "TestA", promise: "1 no blind paid retry", fault: "generate 500", expect: expectFailed,
		outcome: expectFailed, posts: 1, wanted: 1, leaks: -1, temps: -1})
	c.add(&faultRow{test: "TestB", promise: "2 transient faults survived", fault: "file drop", expect: expectSurvived,
		outcome: "FAILED", posts: 2, tasks: 2, wanted: 1, leaks: 0, temps: 1})
	c.add(&faultRow{test: "TestC", promise: "6 no secret", fault: "echo", expect: expectSurvived, leaks: 2, temps: -1})
	c.write(&b)
	out := b.String()
	for _, want := range []string{
		"Fault matrix: 3 scenarios, 1 held, 2 failed or unfinished; extra paid tasks 1, leaked secrets 2, leftover temp files 1",
		"PROMISE", "EXTRA PAID", "generate 500", "unfinished", "FAILED",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "TestA") > strings.Index(out, "TestB") {
		t.Errorf("rows not sorted by promise:\n%s", out)
	}
}
