package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The large apply passes only when it wrote every file, a floor ran, the ratio is at most 1.15 and the
// provider stayed under 300 MB; the floor's own row is judged by its exit code alone (it writes no file).
func TestLargeTargets(t *testing.T) {
	m := &meta{CreateLim: 20, WindowMs: 1000, LatencyMs: 1000, JitterMs: 2000, LargeN: 5000, LargePar: 50}
	runs := func(wall, floor float64, floorExit int, peakKiB int64) map[string]*applyRun {
		pid, fid := largeIDs(m)
		p := &applyRun{ID: pid, N: 5000, Parallelism: 50, WallSec: wall, Files: 5000,
			Sampler: samplerSummary{ProviderPeakHWMKiB: peakKiB}}
		f := &applyRun{ID: fid, Kind: "floor", N: 5000, Parallelism: 50, WallSec: floor, ExitCode: floorExit}
		return map[string]*applyRun{pid: p, fid: f}
	}
	rows := func(r map[string]*applyRun) []string {
		out := renderBlock(t, "targets", &Report{Targets: largeTargets(m, r)})
		var got []string
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "| One apply of") || strings.HasPrefix(line, "| Provider peak RSS") {
				got = append(got, line)
			}
		}
		if len(got) != 2 {
			t.Fatalf("want the wall and memory rows, got:\n%s", out)
		}
		return got
	}
	got := rows(runs(575, 500, 0, 292_968)) // 1.15× exactly, 299.99 MB
	for i, want := range []string{"575.0 s vs 500.0 s: **1.15×** (the API's bound LB(5000) is 251.9 s) | **PASS**",
		"peak VmHWM 300 MB (286 MiB) | **PASS**"} {
		if !strings.Contains(got[i], want) {
			t.Errorf("row %q lacks %q", got[i], want)
		}
	}
	if got := rows(runs(576, 500, 0, 292_969)); !strings.HasSuffix(got[0], "**FAIL** |") || !strings.HasSuffix(got[1], "**FAIL** |") {
		t.Errorf("1.152× and 300.0 MB should fail: %q", got)
	}
	if got := rows(runs(400, 300, 1, 1000)); !strings.Contains(got[0], "the floor did not run or failed") || !strings.HasSuffix(got[0], "**FAIL** |") {
		t.Errorf("a failed floor cannot pass: %q", got[0])
	}
	r := runs(500, 500, 0, 1000)
	pid, _ := largeIDs(m)
	r[pid].Files = 4999
	if got := rows(r); !strings.Contains(got[0], "the apply failed (exit 0, 4999/5000 files)") || !strings.HasSuffix(got[1], "**FAIL** |") {
		t.Errorf("a missing file fails both: %q", got)
	}
	s := largeSection(m, runs(550, 500, 0, 1000))
	if len(s.Rows) != 2 || !s.Rows[1].Floor || !s.Rows[1].OK || float64(s.Rows[0].VsFloor) != 1.1 {
		t.Errorf("section rows: %+v", s.Rows)
	}
}

// The milestones come from the sampler's memory CSV; one without the created column (older runs)
// gives none, and a count never reached is -1.
func TestLargeMilestones(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	old := write("old.csv", "t_sec,provider_processes,provider_rss_kib,provider_hwm_kib,cli_rss_kib,tree_rss_kib\n0.2,1,1,1,1,1\n")
	if s, err := readCreatedCSV(old); err != nil || s != nil {
		t.Errorf("old CSV: %v, %v", s, err)
	}
	cur := write("new.csv", "t_sec,provider_processes,provider_rss_kib,provider_hwm_kib,cli_rss_kib,tree_rss_kib,provider_cpu_sec,cli_cpu_sec,created\n"+
		"0.2,1,1,1,1,1,0.1,0.1,0\n10.4,1,1,1,1,1,0.1,0.1,3\n12.0,1,1,1,1,1,0.1,0.1,5\n20.6,1,1,1,1,1,0.1,0.1,9\n")
	s, err := readCreatedCSV(cur)
	if err != nil || len(s) != 4 {
		t.Fatalf("new CSV: %v, %v", s, err)
	}
	got := milestones(&applyRun{N: 10, created: s})
	want := []Milestone{{2, 10.4}, {5, 12.0}, {10, -1}}
	if !slices.Equal(got, want) {
		t.Errorf("milestones %v, want %v", got, want)
	}
}

// Both limits together: the API's pace binds while Terraform alone would be faster, the floor's pace
// once Terraform is the slower, and the floor's tail after its last resource is added.
func TestCombinedBound(t *testing.T) {
	m := &meta{CreateLim: 2, WindowMs: 1000, LatencyMs: 1000, JitterMs: 0}
	timeline := func(step float64) []createdSample {
		s := []createdSample{{0, 0}}
		for k := 1; k <= 6; k++ {
			s = append(s, createdSample{step * float64(k), k})
		}
		return s
	}
	// Terraform alone creates one every 0.1 s; the API lets two tasks start per second from 0.1 s on,
	// each done 1 s later: at 1.1, 1.1, 2.1, 2.1, 3.1, 3.1, each at least 0.1 s after the one before.
	fast := &applyRun{N: 6, WallSec: 1.0, created: timeline(0.1)}
	if got, ok := combinedBound(m, fast); !ok || math.Abs(got-3.6) > 1e-9 {
		t.Errorf("API-bound: %v, %v; want 3.6 (last at 3.2, then the floor's 0.4 s tail)", got, ok)
	}
	// Terraform alone takes 2 s per resource: its pace binds, from the API's first task on (3 s).
	slow := &applyRun{N: 6, WallSec: 12.5, created: timeline(2)}
	if got, ok := combinedBound(m, slow); !ok || math.Abs(got-13.5) > 1e-9 {
		t.Errorf("Terraform-bound: %v, %v; want 13.5", got, ok)
	}
	short := &applyRun{N: 6, WallSec: 1, created: timeline(0.1)[:4]}
	if _, ok := combinedBound(m, short); ok {
		t.Error("a floor timeline that never reached N gives no bound")
	}
	if _, ok := combinedBound(m, &applyRun{N: 6, ExitCode: 1, created: timeline(0.1)}); ok {
		t.Error("a failed floor gives no bound")
	}
}
