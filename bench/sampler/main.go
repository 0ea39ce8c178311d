// Command sampler watches one benchmark run: it polls kie-mock's GET /_mock/stats (tasks in flight
// and counters) and the memory of the process tree under a Terraform CLI process, writes both as
// CSV, and writes a JSON summary when the watched process exits. It is part of scripts/bench.sh.
//
//	sampler -pid PID -mock URL -stats out/stats.csv -rss out/rss.csv -summary out/summary.json
//
// With -log (the CLI's output), the memory CSV also counts the resources created so far, so that two
// applies of the same configuration can be compared over time, not only at their end.
//
// It stops by itself: when PID is gone, on SIGINT/SIGTERM, or after -max.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type stats struct {
	GenerateRequests int `json:"generateRequests"`
	TasksCreated     int `json:"tasksCreated"`
	StatusQueries    int `json:"statusQueries"`
	Downloads        int `json:"downloads"`
	RateLimited      int `json:"rateLimited"`
	InFlight         int `json:"inFlight"`
}

// summary is what scripts/bench.sh reads back after the run.
type summary struct {
	Samples             int     `json:"samples"`
	StatsErrors         int     `json:"statsErrors"`
	PeakInFlight        int     `json:"peakInFlight"`
	ProviderProcesses   int     `json:"providerProcesses"`
	ProviderPeakHWMKiB  int64   `json:"providerPeakHwmKiB"`  // highest VmHWM of any matching process
	ProviderPeakRSSKiB  int64   `json:"providerPeakRssKiB"`  // highest sampled VmRSS, summed over matching processes
	CLIPeakHWMKiB       int64   `json:"cliPeakHwmKiB"`       // highest VmHWM of a process named -cli-name
	TreePeakRSSKiB      int64   `json:"treePeakRssKiB"`      // highest sampled VmRSS summed over the whole tree
	FirstRateLimitedSec float64 `json:"firstRateLimitedSec"` // -1 if none
	LastRateLimitedSec  float64 `json:"lastRateLimitedSec"`  // -1 if none
	DurationSec         float64 `json:"durationSec"`
	// CPU time (user+system) of the matching processes, from their last sample: a process's final
	// 200 ms are missed.
	ProviderCPUSec float64 `json:"providerCpuSec"`
	CLICPUSec      float64 `json:"cliCpuSec"`
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat (100 on Linux).
const clockTicks = 100

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "sampler:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		pid         = flag.Int("pid", 0, "process to watch (the Terraform CLI); sampling ends when it exits")
		mockURL     = flag.String("mock", "", "kie-mock base URL (empty: no stats sampling)")
		statsOut    = flag.String("stats", "", "CSV of /_mock/stats samples")
		rssOut      = flag.String("rss", "", "CSV of memory samples")
		summaryOut  = flag.String("summary", "", "JSON summary written at the end")
		match       = flag.String("match", "terraform-provider-kie", "substring of a process's executable name that marks the provider")
		cliName     = flag.String("cli-name", "terraform", "executable name of the CLI (its peak memory is reported separately)")
		statsEvery  = flag.Duration("stats-every", 250*time.Millisecond, "stats sampling interval")
		rssEvery    = flag.Duration("rss-every", 200*time.Millisecond, "memory sampling interval")
		maxDuration = flag.Duration("max", 2*time.Hour, "stop after this long whatever happens")
		cliLog      = flag.String("log", "", "the CLI's output, whose \"Creation complete\" lines are counted into the memory CSV")
	)
	flag.Parse()
	if *pid <= 0 || *summaryOut == "" {
		return errors.New("-pid and -summary are required")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *maxDuration)
	defer cancel()

	start := time.Now()
	sum := summary{FirstRateLimitedSec: -1, LastRateLimitedSec: -1}

	var statsW, rssW *bufio.Writer
	if *statsOut != "" {
		f, err := os.Create(*statsOut)
		if err != nil {
			return err
		}
		defer f.Close()
		statsW = bufio.NewWriter(f)
		defer statsW.Flush()
		fmt.Fprintln(statsW, "t_sec,in_flight,generate_requests,tasks_created,status_queries,downloads,rate_limited")
	}
	if *rssOut != "" {
		f, err := os.Create(*rssOut)
		if err != nil {
			return err
		}
		defer f.Close()
		rssW = bufio.NewWriter(f)
		defer rssW.Flush()
		fmt.Fprintln(rssW, "t_sec,provider_processes,provider_rss_kib,provider_hwm_kib,cli_rss_kib,tree_rss_kib,provider_cpu_sec,cli_cpu_sec,created")
	}

	client := &http.Client{Timeout: 2 * time.Second}
	statsTick := time.NewTicker(*statsEvery)
	defer statsTick.Stop()
	rssTick := time.NewTicker(*rssEvery)
	defer rssTick.Stop()
	providers := map[int]bool{}
	providerTicks, cliTicks := map[int]int64{}, map[int]int64{}
	lastRateLimited := 0
	created := &lineCounter{path: *cliLog, pattern: []byte("Creation complete after")}

	sampleStats := func() {
		if *mockURL == "" {
			return
		}
		st, err := fetchStats(ctx, client, *mockURL)
		t := time.Since(start).Seconds()
		if err != nil {
			sum.StatsErrors++
			return
		}
		sum.Samples++
		sum.PeakInFlight = max(sum.PeakInFlight, st.InFlight)
		if st.RateLimited > lastRateLimited {
			if sum.FirstRateLimitedSec < 0 {
				sum.FirstRateLimitedSec = t
			}
			sum.LastRateLimitedSec = t
			lastRateLimited = st.RateLimited
		}
		if statsW != nil {
			fmt.Fprintf(statsW, "%.3f,%d,%d,%d,%d,%d,%d\n", t, st.InFlight, st.GenerateRequests, st.TasksCreated,
				st.StatusQueries, st.Downloads, st.RateLimited)
		}
	}
	// sampleMem reports false once the watched process is gone.
	sampleMem := func() bool {
		if !alive(*pid) {
			return false
		}
		tree := descendants(*pid)
		var provRSS, provHWM, treeRSS, cliRSS int64
		n := 0
		for _, p := range tree {
			rss, hwm, ok := memory(p)
			if !ok {
				continue
			}
			treeRSS += rss
			name := exeName(p)
			if name == *cliName {
				cliTicks[p] = cpuTicks(p, cliTicks[p])
				cliRSS += rss
				sum.CLIPeakHWMKiB = max(sum.CLIPeakHWMKiB, hwm)
				continue
			}
			if strings.Contains(name, *match) {
				n++
				providers[p] = true
				providerTicks[p] = cpuTicks(p, providerTicks[p])
				provRSS += rss
				provHWM = max(provHWM, hwm)
			}
		}
		sum.ProviderPeakHWMKiB = max(sum.ProviderPeakHWMKiB, provHWM)
		sum.ProviderPeakRSSKiB = max(sum.ProviderPeakRSSKiB, provRSS)
		sum.TreePeakRSSKiB = max(sum.TreePeakRSSKiB, treeRSS)
		if rssW != nil {
			fmt.Fprintf(rssW, "%.3f,%d,%d,%d,%d,%d,%.2f,%.2f,%d\n", time.Since(start).Seconds(), n, provRSS, provHWM, cliRSS, treeRSS,
				float64(sumTicks(providerTicks))/clockTicks, float64(sumTicks(cliTicks))/clockTicks, created.count())
		}
		return true
	}

	// Stats and memory are sampled by separate goroutines, so a slow answer from the mock never
	// delays a memory sample or the other way round. They write disjoint fields of sum.
	done := make(chan struct{})
	statsDone := make(chan struct{})
	go func() {
		defer close(statsDone)
		sampleStats()
		for {
			select {
			case <-done:
				sampleStats()
				return
			case <-statsTick.C:
				sampleStats()
			}
		}
	}()
	sampleMem()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-rssTick.C:
			if !sampleMem() {
				break loop
			}
		}
	}
	close(done)
	<-statsDone
	sum.ProviderProcesses = len(providers)
	sum.ProviderCPUSec = float64(sumTicks(providerTicks)) / clockTicks
	sum.CLICPUSec = float64(sumTicks(cliTicks)) / clockTicks
	sum.DurationSec = time.Since(start).Seconds()
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*summaryOut, append(b, '\n'), 0o644)
}

func fetchStats(ctx context.Context, c *http.Client, base string) (*stats, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/_mock/stats", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("stats: HTTP %d", resp.StatusCode)
	}
	var st stats
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&st); err != nil {
		return nil, err
	}
	return &st, nil
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	_, state, ok := statOf(pid)
	return ok && state != "Z"
}

// statOf reads the parent pid and state from /proc/<pid>/stat.
func statOf(pid int) (ppid int, state string, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, "", false
	}
	// The command name is in parentheses and may contain spaces: parse after the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, "", false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, "", false
	}
	ppid, err = strconv.Atoi(f[1])
	if err != nil {
		return 0, "", false
	}
	return ppid, f[0], true
}

// cpuTicks returns utime+stime of pid, or prev when it cannot be read.
func cpuTicks(pid int, prev int64) int64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return prev
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return prev
	}
	// After the name: state(0) ppid(1) ... utime(11) stime(12).
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return prev
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return prev
	}
	return max(prev, u+st)
}

// descendants returns root and every process below it.
func descendants(root int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return []int{root}
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, ok := statOf(p); ok {
			children[ppid] = append(children[ppid], p)
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// memory reads VmRSS and VmHWM (KiB) from /proc/<pid>/status.
func memory(pid int) (rss, hwm int64, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0, 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		key, val, found := strings.Cut(line, ":")
		if !found {
			continue
		}
		switch key {
		case "VmRSS":
			rss = kib(val)
			ok = true
		case "VmHWM":
			hwm = kib(val)
		}
	}
	return rss, hwm, ok
}

func kib(v string) int64 {
	f := strings.Fields(v)
	if len(f) == 0 {
		return 0
	}
	n, _ := strconv.ParseInt(f[0], 10, 64)
	return n
}

// exeName is the base name of the process's executable (the comm field is cut at 15 characters).
func exeName(pid int) string {
	if target, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "exe")); err == nil {
		return filepath.Base(target)
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return ""
	}
	arg0, _, _ := strings.Cut(string(b), "\x00")
	return filepath.Base(arg0)
}

func sumTicks(m map[int]int64) int64 {
	var n int64
	for _, t := range m {
		n += t
	}
	return n
}

// lineCounter counts a pattern in a growing file, reading only what was appended since the last call.
type lineCounter struct {
	path    string
	pattern []byte
	offset  int64
	tail    []byte // the end of the last read, which may hold the start of a match
	n       int
}

func (c *lineCounter) count() int {
	if c.path == "" {
		return 0
	}
	f, err := os.Open(c.path)
	if err != nil {
		return c.n
	}
	defer f.Close()
	b := make([]byte, 1<<20)
	for {
		k, err := f.ReadAt(b, c.offset)
		if k > 0 {
			chunk := append(c.tail, b[:k]...)
			c.n += bytes.Count(chunk, c.pattern)
			// Keep what could begin a match cut at the end, but never a whole match.
			keep := min(len(chunk), len(c.pattern)-1)
			c.tail = append([]byte(nil), chunk[len(chunk)-keep:]...)
			c.offset += int64(k)
		}
		if err != nil || k < len(b) {
			return c.n
		}
	}
}
