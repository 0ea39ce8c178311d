package kie

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func flagStep(id string, flag int, extra string) http.HandlerFunc {
	return env(200, "success", taskJSON(id, flag, extra))
}

func TestWaitTaskOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		steps    []http.HandlerFunc
		wantFlag SuccessFlag
		wantErr  func(t *testing.T, err error)
	}{
		{
			name:     "success",
			steps:    []http.HandlerFunc{flagStep("w", 0, ""), flagStep("w", 0, ""), flagStep("w", 1, `"response":{"resultImageUrl":"https://cdn/r.png"}`)},
			wantFlag: FlagSuccess,
		},
		{
			name:     "create failed",
			steps:    []http.HandlerFunc{flagStep("w", 0, ""), flagStep("w", 2, `"errorCode":500,"errorMessage":"could not start"`)},
			wantFlag: FlagCreateFailed,
			wantErr: func(t *testing.T, err error) {
				var f *TaskFailedError
				if !errors.As(err, &f) || f.Flag != FlagCreateFailed || f.ErrorCode != 500 || f.TaskID != "w" {
					t.Errorf("got %v", err)
				}
			},
		},
		{
			name:     "generate failed",
			steps:    []http.HandlerFunc{flagStep("w", 0, ""), flagStep("w", 0, ""), flagStep("w", 3, `"errorCode":"400","errorMessage":"content flagged"`)},
			wantFlag: FlagGenerateFailed,
			wantErr: func(t *testing.T, err error) {
				var f *TaskFailedError
				if !errors.As(err, &f) || f.Flag != FlagGenerateFailed || f.ErrorCode != 400 || !strings.Contains(err.Error(), "content flagged") {
					t.Errorf("got %v", err)
				}
			},
		},
		{
			name:     "transient faults between polls do not end the wait",
			steps:    []http.HandlerFunc{flagStep("w", 0, ""), reply(503, "down"), reply(502, ""), flagStep("w", 1, "")},
			wantFlag: FlagSuccess,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, tt.steps...)
			c := newTestClient(srv.URL, WithClock(newFakeClock()), WithRetryPolicy(RetryPolicy{BaseDelay: time.Millisecond, MaxAttempts: 1}))
			task, err := c.WaitTask(context.Background(), "w")
			if task == nil || task.SuccessFlag != tt.wantFlag {
				t.Fatalf("task %+v, err %v", task, err)
			}
			if tt.wantErr == nil && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.wantErr != nil {
				tt.wantErr(t, err)
			}
			if srv.Count() != len(tt.steps) {
				t.Errorf("%d polls, want %d", srv.Count(), len(tt.steps))
			}
		})
	}
}

func TestWaitTaskStopsOnDefiniteError(t *testing.T) {
	srv := newScriptServer(t, flagStep("w", 0, ""), reply(401, `{"code":401,"msg":"bad key"}`), flagStep("w", 1, ""))
	c := newTestClient(srv.URL, WithClock(newFakeClock()))
	task, err := c.WaitTask(context.Background(), "w")
	if !IsUnauthorized(err) || task == nil || task.SuccessFlag != FlagGenerating || !strings.Contains(err.Error(), "w") {
		t.Fatalf("task %+v, err %v", task, err)
	}
	if srv.Count() != 2 {
		t.Errorf("%d polls", srv.Count())
	}
}

func TestWaitTaskContextTimeoutKeepsTaskID(t *testing.T) {
	// In a bubble the deadline passes only while the waiter sleeps between polls, never during a poll,
	// however loaded the machine: 150 ms of polls every 5-10 ms always come first.
	synctest.Test(t, func(t *testing.T) {
		srv := newPipeScriptServer(t, flagStep("task-slow", 0, ""))
		c := newTestClient(srv.URL, srv.Via(), WithPollInterval(5*time.Millisecond, 10*time.Millisecond))
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		task, err := c.WaitTask(ctx, "task-slow")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err %v", err)
		}
		for _, w := range []string{"task-slow", "the task id is kept", "GENERATING"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q lacks %q", err.Error(), w)
			}
		}
		if task == nil || task.TaskID != "task-slow" {
			t.Errorf("last task %+v", task)
		}
		if srv.Count() < 3 {
			t.Errorf("only %d polls", srv.Count())
		}
	})
}

func TestNotifyWakesWaiterEarly(t *testing.T) {
	var done atomic.Bool
	polled := make(chan struct{}, 10)
	srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		flag := 0
		if done.Load() {
			flag = 1
		}
		flagStep("n1", flag, "")(w, r)
		polled <- struct{}{}
	})
	c := newTestClient(srv.URL, WithPollInterval(time.Hour, time.Hour))
	c.Notify("nobody-waits") // a no-op

	type result struct {
		task *Task
		err  error
	}
	res := make(chan result, 1)
	go func() {
		task, err := c.WaitTask(context.Background(), "n1")
		res <- result{task, err}
	}()
	<-polled
	done.Store(true)
	c.Notify("other-task") // wakes nobody
	select {
	case r := <-res:
		t.Fatalf("returned before Notify: %+v %v", r.task, r.err)
	case <-time.After(50 * time.Millisecond):
	}
	c.Notify(" n1 ")
	select {
	case r := <-res:
		if r.err != nil || r.task.SuccessFlag != FlagSuccess {
			t.Fatalf("got %+v %v", r.task, r.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Notify did not wake the waiter")
	}
	c.waitMu.Lock()
	left := len(c.waiters)
	c.waitMu.Unlock()
	if left != 0 {
		t.Errorf("%d waiter entries left behind", left)
	}
}

func TestNotifyConcurrentWaiters(t *testing.T) {
	var done atomic.Bool
	srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		flag := 0
		if done.Load() {
			flag = 1
		}
		flagStep(r.URL.Query().Get("taskId"), flag, "")(w, r)
	})
	c := newTestClient(srv.URL, WithPollInterval(time.Hour, time.Hour))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			_, err := c.WaitTask(context.Background(), []string{"a", "b"}[i%2])
			errs <- err
		})
	}
	// Wait until all eight have polled once, then finish the tasks and notify repeatedly.
	deadline := time.Now().Add(5 * time.Second)
	for srv.Count() < 8 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	done.Store(true)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			default:
				c.Notify("a")
				c.Notify("b")
				time.Sleep(time.Millisecond)
			}
		}
	}()
	wg.Wait()
	close(stop)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestWaitScheduleGrows(t *testing.T) {
	var polls atomic.Int32
	srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		flag := 0
		if polls.Add(1) > 60 {
			flag = 1
		}
		flagStep("s", flag, "")(w, r)
	})
	clk := newFakeClock()
	c := newTestClient(srv.URL, WithClock(clk), WithPollInterval(2*time.Second, 30*time.Second))
	if _, err := c.WaitTask(context.Background(), "s"); err != nil {
		t.Fatal(err)
	}
	var elapsed time.Duration
	var sawMid, sawLong bool
	for _, d := range clk.Sleeps() {
		switch {
		case elapsed < 30*time.Second:
			if d < 1700*time.Millisecond || d > 2300*time.Millisecond {
				t.Errorf("at %v waited %v, want 2s ±15%%", elapsed, d)
			}
		case elapsed >= 45*time.Second && elapsed < 2*time.Minute:
			sawMid = sawMid || d >= 4*time.Second
			if d > 11500*time.Millisecond {
				t.Errorf("at %v waited %v, want at most 10s +15%%", elapsed, d)
			}
		case elapsed >= 3*time.Minute:
			sawLong = sawLong || d >= 20*time.Second
		}
		if d > 34500*time.Millisecond {
			t.Errorf("waited %v, over the max interval", d)
		}
		elapsed += d
	}
	if !sawMid || !sawLong {
		t.Errorf("schedule did not grow: %v", clk.Sleeps())
	}
}

func TestWaitTaskFirstPollDelaySavesQueries(t *testing.T) {
	var polls atomic.Int32
	srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		polls.Add(1)
		flagStep("f", 1, "")(w, r)
	})
	clk := newFakeClock()
	c := newTestClient(srv.URL, WithClock(clk), WithFirstPollDelay(8*time.Second))
	if _, err := c.WaitTask(context.Background(), "f"); err != nil {
		t.Fatal(err)
	}
	sleeps := clk.Sleeps()
	if len(sleeps) == 0 || sleeps[0] < 6800*time.Millisecond || sleeps[0] > 9200*time.Millisecond {
		t.Fatalf("first wait %v, want 8s ±15%%", sleeps)
	}
	if polls.Load() != 1 {
		t.Fatalf("%d queries for a task that was done at the first one", polls.Load())
	}
}

func TestWaitTaskCallbackModeQueriesOnlyAfterNotify(t *testing.T) {
	var polls atomic.Int32
	srv := newScriptServer(t, func(w http.ResponseWriter, r *http.Request) {
		polls.Add(1)
		flagStep("cb", 1, "")(w, r)
	})
	c := newTestClient(srv.URL, WithCallbackPolling(time.Hour))
	done := make(chan error, 1)
	go func() {
		_, err := c.WaitTask(context.Background(), "cb")
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if n := polls.Load(); n != 0 {
		t.Fatalf("%d queries before the callback", n)
	}
	c.Notify("cb")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Notify did not wake the waiter")
	}
	if n := polls.Load(); n != 1 {
		t.Fatalf("%d queries, want exactly 1 after the callback", n)
	}
}

func TestNotifyBeforeWaitIsRemembered(t *testing.T) {
	srv := newScriptServer(t, flagStep("early", 1, ""))
	c := newTestClient(srv.URL, WithCallbackPolling(time.Hour))
	c.Notify("early") // the callback beat the waiter
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.WaitTask(ctx, "early"); err != nil {
		t.Fatalf("an early callback must wake the waiter at once: %v", err)
	}
	if srv.Count() != 1 {
		t.Fatalf("%d queries", srv.Count())
	}
}
