package kie

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A burst that KIE refuses halves the share once, not once per refused request: they were all sent
// at the old share. A refusal of a request sent after the cut halves it again, down to one.
func TestCreateShareHalvesOncePerEpisode(t *testing.T) {
	clk := newFakeClock()
	w := newSlidingWindow(20, 10*time.Second)
	var burst []*ticket
	for range 20 {
		tk, err := w.admit(context.Background(), clk)
		if err != nil {
			t.Fatal(err)
		}
		burst = append(burst, tk)
	}
	<-clk.After(time.Millisecond)
	cuts := 0
	for _, tk := range burst {
		if w.refused(clk.Now(), tk, true, 0) {
			cuts++
		}
	}
	if cuts != 1 || w.rate() != 10 {
		t.Fatalf("%d cuts, share %v; want one cut to 10", cuts, w.rate())
	}
	for _, want := range []float64{5, 2.5, 1.25, 1, 1} {
		<-clk.After(11 * time.Second)
		tk, err := w.admit(context.Background(), clk)
		if err != nil {
			t.Fatal(err)
		}
		<-clk.After(time.Millisecond)
		w.refused(clk.Now(), tk, true, 0)
		if got := w.rate(); got != want {
			t.Fatalf("share %v, want %v", got, want)
		}
	}
	// Maintenance (455) is not congestion: it holds everyone back but keeps the share.
	tk, _ := w.admit(context.Background(), clk)
	if w.refused(clk.Now(), tk, false, time.Second) || w.rate() != 1 {
		t.Fatalf("a 455 changed the share to %v", w.rate())
	}
}

// At a share of 5, a window admits 5 requests, even though the ceiling is 20.
func TestCreateShareLimitsAdmissions(t *testing.T) {
	clk := newFakeClock()
	w := newSlidingWindow(20, 10*time.Second)
	tk, _ := w.admit(context.Background(), clk)
	w.refused(clk.Now(), tk, true, 0) // 10
	<-clk.After(time.Millisecond)
	tk, _ = w.admit(context.Background(), clk)
	w.refused(clk.Now(), tk, true, 0) // 5
	<-clk.After(11 * time.Second)
	start := clk.Now()
	for range 5 {
		if err := w.wait(context.Background(), clk); err != nil {
			t.Fatal(err)
		}
	}
	if clk.Now() != start {
		t.Fatalf("the first 5 requests waited %v", clk.Now().Sub(start))
	}
	if err := w.wait(context.Background(), clk); err != nil {
		t.Fatal(err)
	}
	if got := clk.Now().Sub(start); got < 10*time.Second {
		t.Fatalf("the 6th request went after %v, want a window", got)
	}
}

// KIE does not count a refused request, so its room in the window is free at once: after a cut to 10,
// with 4 of a burst of 12 accepted and 8 refused, 6 more go out in the same window, not 0.
func TestCreateRefusedRequestLeavesTheWindow(t *testing.T) {
	clk := newFakeClock()
	w := newSlidingWindow(20, 10*time.Second)
	var burst []*ticket
	for range 12 {
		tk, err := w.admit(context.Background(), clk)
		if err != nil {
			t.Fatal(err)
		}
		burst = append(burst, tk)
	}
	<-clk.After(time.Millisecond)
	for i, tk := range burst {
		tk.settle(clk.Now())
		if i < 4 {
			w.accepted(clk.Now())
		} else {
			w.refused(clk.Now(), tk, true, 0)
		}
	}
	if got := w.rate(); got != 10 {
		t.Fatalf("share %v, want one cut to 10", got)
	}
	start := clk.Now()
	for range 6 {
		if err := w.wait(context.Background(), clk); err != nil {
			t.Fatal(err)
		}
	}
	if clk.Now() != start {
		t.Fatalf("the 6 requests that fit the share waited %v: refused requests still held room", clk.Now().Sub(start))
	}
	if tk, _ := w.tryAdmit(clk.Now()); tk != nil {
		t.Fatal("an 11th request in the window was admitted at a share of 10")
	}
}

// Accepted requests win the share back: by about one request per window while the last refusal is
// recent (more for a small share), then doubling per window, never above the ceiling.
func TestCreateShareRecovers(t *testing.T) {
	clk := newFakeClock()
	w := newSlidingWindow(20, 10*time.Second)
	tk, _ := w.admit(context.Background(), clk)
	w.refused(clk.Now(), tk, true, 0)
	<-clk.After(time.Millisecond)
	tk, _ = w.admit(context.Background(), clk)
	w.refused(clk.Now(), tk, true, 0) // share 5
	for range 5 {                     // one window's worth of accepted requests, right after the cut
		w.accepted(clk.Now())
	}
	// At 5 of 20 the share grows by two requests per crowded window (a quarter of the ceiling or less
	// grows faster than one), compounding over the window's requests: about 6.6.
	if got := w.rate(); got < 6.4 || got > 6.8 {
		t.Fatalf("share %v after one crowded window, want about 6.6", got)
	}
	<-clk.After(10 * time.Second)
	windows := 0
	for w.rate() < 20 {
		for range int(w.rate()) {
			w.accepted(clk.Now())
		}
		<-clk.After(10 * time.Second)
		if windows++; windows > 3 {
			t.Fatalf("share only %v after %d quiet windows", w.rate(), windows)
		}
	}
	w.accepted(clk.Now())
	if w.rate() != 20 {
		t.Fatalf("share %v above the ceiling", w.rate())
	}
}

// Growth speeds up only once KIE has refused nothing for half a window: a refused retry of a request
// sent before the cut does not cut again, but it keeps the share growing slowly, because the account
// is still full.
func TestCreateShareDoublesOnlyWhenQuiet(t *testing.T) {
	clk := newFakeClock()
	w := newSlidingWindow(20, 10*time.Second)
	old, _ := w.admit(context.Background(), clk)
	tk, _ := w.admit(context.Background(), clk)
	<-clk.After(time.Millisecond)
	w.refused(clk.Now(), tk, true, 0) // cut to 10
	<-clk.After(4 * time.Second)
	if w.refused(clk.Now(), old, true, 0) {
		t.Fatal("a request sent before the cut cut the share again")
	}
	<-clk.After(4 * time.Second) // 8 s after the cut, 4 s after the last refusal
	w.accepted(clk.Now())
	if got := w.rate(); got < 10.09 || got > 10.11 {
		t.Fatalf("share %v after an accepted request less than half a window after a refusal, want 10.1", got)
	}
	<-clk.After(1100 * time.Millisecond) // 5.1 s without a refusal: half the window and its margin
	w.accepted(clk.Now())
	if got := w.rate(); got < 11.09 || got > 11.11 {
		t.Fatalf("share %v after an accepted request half a window after the last refusal, want 11.1", got)
	}
	// A 455 is not the rate limit: it does not make the account look full.
	m, _ := w.admit(context.Background(), clk)
	w.refused(clk.Now(), m, false, 0)
	w.accepted(clk.Now())
	if got := w.rate(); got < 12.09 || got > 12.11 {
		t.Fatalf("share %v after a 455, want 12.1", got)
	}
}

// A refusal's Retry-After holds back every request of the client, not only the refused one.
func TestCreateRefusalHoldsEveryone(t *testing.T) {
	clk := newFakeClock()
	w := newSlidingWindow(20, 10*time.Second)
	tk, _ := w.admit(context.Background(), clk)
	w.refused(clk.Now(), tk, true, 3*time.Second)
	start := clk.Now()
	if err := w.wait(context.Background(), clk); err != nil {
		t.Fatal(err)
	}
	if got := clk.Now().Sub(start); got < 3*time.Second {
		t.Fatalf("the next request went after %v, want the 3s Retry-After", got)
	}
}

// A generation KIE keeps refusing is retried after each Retry-After until the next wait would pass
// ctx's deadline, not only RetryPolicy.RefusedFor (2 minutes in tests) nor MaxAttempts. Measured on
// the fake clock: the deadline only sets the budget, read once on the real clock, and the waits are
// the fake clock's, so a loaded machine changes nothing but how long the test takes. Each wait is logged
// at INFO with the reason, the error says how often KIE refused, and one caller's 429 lowers the create
// rate of the whole client.
func TestGenerateRefusedRetriesUntilDeadline(t *testing.T) {
	const retryAfter = 30 * time.Second
	maxDelay := retryAfter + retryAfter/20 // refusedDelay adds up to a twentieth
	srv := newScriptServer(t, reply(429, `{"code":429,"msg":"busy"}`, "Retry-After", "30"))
	logs := &logRecorder{}
	clk := newFakeClock()
	c := newTestClient(srv.URL, WithClock(clk), WithLogger(logs), WithCreateLimit(20, 40*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dl, _ := ctx.Deadline()
	// Generate reads its budget between these two.
	budgetBefore := time.Until(dl)
	_, err := c.Generate(ctx, GenerateRequest{Prompt: "p"})
	budgetAfter := time.Until(dl)

	var re *RefusedError
	if !errors.As(err, &re) || !IsRateLimited(err) || !IsRefusedForNow(err) {
		t.Fatalf("want a RefusedError for a 429, got %v", err)
	}
	if re.Refusals != srv.Count() || re.Refusals <= fastRetry().MaxAttempts {
		t.Errorf("%d refusals, %d POSTs: want one POST per refusal, more than MaxAttempts", re.Refusals, srv.Count())
	}
	if re.Waited >= budgetBefore {
		t.Errorf("retried for %v, past the deadline %v away", re.Waited, budgetBefore)
	}
	if re.Waited+maxDelay < budgetAfter {
		t.Errorf("gave up after %v with %v left before the deadline, enough for another retry", re.Waited, budgetAfter-re.Waited)
	}
	// Every refusal but the last waited the server's Retry-After, and at most a twentieth more.
	var waits int
	for _, d := range clk.Sleeps() {
		if d >= retryAfter/2 {
			waits++
			if d < retryAfter || d > maxDelay {
				t.Errorf("waited %v after a refusal with Retry-After %v", d, retryAfter)
			}
		}
	}
	if waits != re.Refusals-1 {
		t.Errorf("%d waits for %d refusals: %v", waits, re.Refusals, clk.Sleeps())
	}
	if !strings.Contains(err.Error(), "KIE refused the request") || !strings.Contains(err.Error(), "no task was created") {
		t.Errorf("error %q", err)
	}
	all := logs.All()
	// Every refusal but the last, which leaves no time to wait, is logged.
	if n := strings.Count(all, "INFO KIE refused the generation request for now"); n != re.Refusals-1 {
		t.Errorf("%d INFO records for %d refusals:\n%s", n, re.Refusals, all)
	}
	if !strings.Contains(all, "reason:rate limited") {
		t.Errorf("INFO records do not say why:\n%s", all)
	}
	if got := c.create.rate(); got >= 20 {
		t.Errorf("create share %v after 429s, want lowered", got)
	}
}

// A refused generation succeeds once KIE accepts it, and the error of one that never is accepted is not
// mistaken for an uncertain outcome.
func TestGenerateRefusedThenAccepted(t *testing.T) {
	steps := []http.HandlerFunc{}
	for range 7 { // more than MaxAttempts
		steps = append(steps, env(455, "maintenance", "null"))
	}
	srv := newScriptServer(t, append(steps, okTask("after-maintenance"))...)
	clk := newFakeClock()
	c := newTestClient(srv.URL, WithClock(clk))
	id, err := c.Generate(context.Background(), GenerateRequest{Prompt: "p"})
	if err != nil || id != "after-maintenance" || srv.Count() != 8 {
		t.Fatalf("Generate = %q, %v after %d POSTs", id, err, srv.Count())
	}
}

// Status queries follow the same rule: queries sent before a cut do not cut again, a 429 of one sent
// after it does, down to a sixteenth of the configured rate; answered queries win the rate back.
func TestQueryRateHalvesOncePerEpisode(t *testing.T) {
	clk := newFakeClock()
	g := newQueryGate(16)
	var sent []time.Time
	for range 3 {
		at, err := g.admit(context.Background(), clk)
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, at)
	}
	<-clk.After(time.Millisecond)
	cuts := 0
	for _, at := range sent {
		if g.refused(clk.Now(), at, 0) {
			cuts++
		}
	}
	if cuts != 1 || g.rate() != 8 {
		t.Fatalf("%d cuts, rate %v; want one cut to 8", cuts, g.rate())
	}
	for _, want := range []float64{4, 2, 1, 1} {
		<-clk.After(time.Second)
		at, err := g.admit(context.Background(), clk)
		if err != nil {
			t.Fatal(err)
		}
		<-clk.After(time.Millisecond)
		g.refused(clk.Now(), at, 0)
		if g.rate() != want {
			t.Fatalf("rate %v, want %v", g.rate(), want)
		}
	}
	answered := 0
	for g.rate() < 16 {
		g.answered(clk.Now())
		if answered++; answered > 200 {
			t.Fatalf("rate only %v after 200 answered queries", g.rate())
		}
	}
	// Each answer grows the rate's square by 2/100 of the configured rate's square: from a sixteenth back
	// to the whole rate takes about 50 answers, which at the low rates on the way is about 6 seconds.
	if answered < 45 || answered > 55 {
		t.Fatalf("rate back after %d answered queries, want about 50", answered)
	}
}
