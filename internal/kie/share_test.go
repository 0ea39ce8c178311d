package kie

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// simAccount is KIE's create limit as the API and kie-mock count it: accepted requests in a sliding
// window, per account; a refusal carries Retry-After, the time until the oldest slot frees rounded up
// to whole seconds.
type simAccount struct {
	n        int
	per      time.Duration
	accepted []time.Time
	refused  int
}

func (a *simAccount) try(now time.Time) (bool, time.Duration) {
	for len(a.accepted) > 0 && !now.Before(a.accepted[0].Add(a.per)) {
		a.accepted = a.accepted[1:]
	}
	if len(a.accepted) < a.n {
		a.accepted = append(a.accepted, now)
		return true, 0
	}
	a.refused++
	wait := a.accepted[0].Add(a.per).Sub(now)
	return false, max(time.Second, (wait+time.Second-1)/time.Second*time.Second)
}

// simRun is one provider process: its own client's create window, and images waiting to be created.
type simRun struct {
	w       *slidingWindow
	start   time.Duration
	ready   []time.Duration // per image not yet created: when its request may go next
	posts   int
	refused int
	last    time.Duration // when its last image was created
}

// simulate runs independent processes against one account, each with KIE's 20 per 10 s as its ceiling,
// in steps of 10 ms, until every image is created. Requests are answered at once: only the create
// pacing is under test.
func simulate(t *testing.T, starts []time.Duration, images int) ([]*simRun, *simAccount, time.Duration) {
	t.Helper()
	const per = 10 * time.Second
	acct := &simAccount{n: 20, per: per}
	rng := rand.New(rand.NewPCG(1, 2))
	epoch := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var runs []*simRun
	for _, s := range starts {
		r := &simRun{w: newCreateWindow(20, per), start: s}
		for range images {
			r.ready = append(r.ready, s)
		}
		runs = append(runs, r)
	}
	var end time.Duration
	for tick := time.Duration(0); ; tick += 10 * time.Millisecond {
		if tick > time.Hour {
			t.Fatal("the simulation did not finish within an hour")
		}
		busy := false
		now := epoch.Add(tick)
		// Requests of different runs that are due together arrive interleaved, as over the network.
		for progress := true; progress; {
			progress = false
			for i := range runs {
				r := runs[(i+int(tick/(10*time.Millisecond)))%len(runs)] // no run always goes first
				j := slices.IndexFunc(r.ready, func(at time.Duration) bool { return at <= tick })
				if j < 0 {
					busy = busy || len(r.ready) > 0
					continue
				}
				busy, progress = true, true
				tk, wait := r.w.tryAdmit(now)
				if tk == nil {
					for k := range r.ready {
						r.ready[k] = max(r.ready[k], tick+wait)
					}
					continue
				}
				r.posts++
				tk.settle(now)
				if ok, ra := acct.try(now); ok {
					r.w.accepted(now)
					r.ready = slices.Delete(r.ready, j, j+1)
					r.last, end = tick, tick
				} else {
					r.refused++
					r.w.refused(now, tk, true, ra)
					r.ready[j] = tick + ra + time.Duration(rng.Int64N(int64(ra/20)+1))
				}
			}
		}
		if !busy {
			return runs, acct, end
		}
	}
}

// Three runs that start together, 100 images each, share the account: every image is created, KIE
// refuses fewer than half a request per image, and the account's limit is used almost fully.
func TestSharedAccountRunsConverge(t *testing.T) {
	for _, tc := range []struct {
		name   string
		starts []time.Duration
	}{
		{"three together", []time.Duration{0, 0, 0}},
		{"second joins half way", []time.Duration{0, 25 * time.Second}},
		{"alone", []time.Duration{0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const images = 100
			runs, acct, end := simulate(t, tc.starts, images)
			total := images * len(runs)
			// The last of the account's creations cannot come before (batches - 1) windows.
			bound := time.Duration((total+19)/20-1) * 10 * time.Second
			for i, r := range runs {
				t.Logf("run %d: start %v, last created %v, %d posts, %d refused, share now %.1f",
					i, r.start, r.last, r.posts, r.refused, r.w.rate())
			}
			t.Logf("account: last created at %v, bound %v (%.2fx), %d refused (%.2f per image)",
				end, bound, end.Seconds()/bound.Seconds(), acct.refused, float64(acct.refused)/float64(total))
			if len(runs) == 1 && acct.refused != 0 {
				t.Errorf("a run alone was refused %d times", acct.refused)
			}
			if perImage := float64(acct.refused) / float64(total); perImage > 0.5 {
				t.Errorf("%.2f refused requests per image, want at most 0.5", perImage)
			}
			if tc.starts[len(tc.starts)-1] == 0 && len(runs) > 1 {
				first, last := runs[0].last, runs[0].last
				for _, r := range runs {
					first, last = min(first, r.last), max(last, r.last)
				}
				if last > first*115/100 {
					t.Errorf("runs that started together finished between %v and %v: not a fair share", first, last)
				}
			}
			if end > bound*115/100 {
				t.Errorf("the account's last creation at %v, more than 1.15x the bound %v", end, bound)
			}
		})
	}
}

// firstWindow sends the creates of runs that start at the same instant, in round trips: each round
// every run sends all its window admits, KIE answers them interleaved, and only then does each run
// learn the answers. Round trips take milliseconds against KIE's 10 s window, so they all fall in
// the first window. It returns the rounds it took and how many requests KIE refused.
func firstWindow(runs int, window func() *slidingWindow) (rounds, refused int) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	acct := &simAccount{n: 20, per: 10 * time.Second}
	ws := make([]*slidingWindow, runs)
	for i := range ws {
		ws[i] = window()
	}
	for rounds = 1; rounds < 100; rounds++ {
		sent := make([][]*ticket, runs)
		for i, w := range ws {
			for tk, _ := w.tryAdmit(now); tk != nil; tk, _ = w.tryAdmit(now) {
				sent[i] = append(sent[i], tk)
			}
		}
		answered := false
		for k := 0; ; k++ { // requests of different runs arrive interleaved
			more := false
			for i, w := range ws {
				if k >= len(sent[i]) {
					continue
				}
				more, answered = true, true
				tk := sent[i][k]
				tk.settle(now)
				if ok, ra := acct.try(now); ok {
					w.accepted(now)
				} else {
					w.refused(now, tk, true, ra)
				}
			}
			if !more {
				break
			}
		}
		if !answered {
			return rounds - 1, acct.refused
		}
		now = now.Add(time.Millisecond)
	}
	return rounds, acct.refused
}

// A create window starts at half the limit: alone, a run still fills KIE's first window in a round
// trip or two without a refusal; three runs that start together are refused less often in that window
// than with a full first burst (40 of 60).
func TestCreateWindowStartsSmall(t *testing.T) {
	const per = 10 * time.Second
	full := func() *slidingWindow { return newSlidingWindow(20, per) }
	small := func() *slidingWindow { return newCreateWindow(20, per) }

	rounds, refused := firstWindow(1, small)
	if refused != 0 || rounds > 4 {
		t.Errorf("alone: %d round trips, %d refused; want the window filled in at most 4 round trips, none refused",
			rounds, refused)
	}
	_, burst := firstWindow(3, full)
	_, started := firstWindow(3, small)
	t.Logf("three together, first window: %d refused with a full first burst, %d starting small", burst, started)
	if burst != 40 {
		t.Fatalf("a full first burst of three runs: %d refused, want 40 (the simulation changed)", burst)
	}
	if started > 20 {
		t.Errorf("three runs starting small: %d refused in the first window, want at most 20", started)
	}
}
