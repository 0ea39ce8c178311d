package kie

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// WaitTask polls a task until it ends. On success it returns the task. On CREATE_TASK_FAILED or
// GENERATE_FAILED it returns the task and a *TaskFailedError. When ctx ends it returns the last task
// seen (maybe nil) and an error that wraps ctx.Err() and names the task id.
//
// Polls start every min poll interval and slow toward the max interval the longer the task runs;
// transient query failures only delay the next poll. Notify wakes a waiter early.
func (c *Client) WaitTask(ctx context.Context, taskID string) (*Task, error) {
	return waitLoop(ctx, c, taskID, taskPoll[Task]{
		get: c.GetTask,
		done: func(t *Task) (bool, error) {
			if t.SuccessFlag == FlagSuccess {
				return true, nil
			}
			if t.SuccessFlag.Terminal() {
				// GetTask already redacted the message; redacting again keeps the error safe whatever built t.
				return true, &TaskFailedError{TaskID: t.TaskID, Flag: t.SuccessFlag, ErrorCode: t.ErrorCode,
					ErrorMessage: c.redact(t.ErrorMessage)}
			}
			return false, nil
		},
		state: func(t *Task) string { return t.SuccessFlag.String() },
	})
}

// How long the Market waiter takes KIE's "task not found" for "not visible yet": right after a create
// recordInfo may briefly answer 422 "recordInfo is null". Both bounds must pass before the task counts
// as unknown, since burying a task that exists would lose a paid image.
const (
	unknownTaskTolerance = 5
	unknownTaskGrace     = 30 * time.Second
)

// taskPoll is what the shared waiter needs to know about one API's tasks.
type taskPoll[T any] struct {
	get   func(ctx context.Context, taskID string) (*T, error)
	done  func(t *T) (bool, error) // whether t is final, and the error of a failed task
	state func(t *T) string        // for messages
	// tolerateUnknown keeps polling through "not found" answers for a while (see unknownTaskGrace).
	tolerateUnknown bool
}

// waitLoop is the one poller behind WaitTask and WaitMarketTask: first-poll delay, growing interval,
// Notify wake-ups, ctx handling and a stop on definite errors.
func waitLoop[T any](ctx context.Context, c *Client, taskID string, p taskPoll[T]) (*T, error) {
	if c.apiKey == "" {
		return nil, ErrMissingAPIKey
	}
	taskID = strings.TrimSpace(taskID)
	if taskID == "" {
		return nil, errors.New("kie: waiting for a task: the task id is empty")
	}
	wake, unregister := c.register(taskID)
	defer unregister()

	state := func(t *T) string {
		if t == nil {
			return "unknown"
		}
		return cmp.Or(p.state(t), "unknown")
	}
	start := c.clock.Now()
	var last *T
	interval := time.Duration(0)
	unknown, unknownSince := 0, time.Time{}
	// Generations take seconds at least: the first query waits, unless a callback arrives sooner.
	if first := c.firstWait(); first > 0 {
		select {
		case <-c.clock.After(jitter(first)):
		case <-wake:
		case <-ctx.Done():
			return last, waitCanceled(ctx, taskID, state(last))
		}
	}
	for {
		t, err := p.get(ctx, taskID)
		notVisible := false
		switch {
		case err == nil:
			last, unknown = t, 0
			if final, ferr := p.done(t); final {
				return t, ferr
			}
		case ctx.Err() != nil:
			return last, waitCanceled(ctx, taskID, state(last))
		case p.tolerateUnknown && IsNotFound(err):
			if unknown == 0 {
				unknownSince = c.clock.Now()
			}
			unknown++
			if waited := c.clock.Now().Sub(unknownSince); unknown >= unknownTaskTolerance && waited >= unknownTaskGrace {
				return last, fmt.Errorf("waiting for task %s: KIE has no record of the task (%d answers over %s): %w",
					taskID, unknown, roundDuration(waited), err)
			}
			notVisible = true
			c.logger.Debug(ctx, "KIE does not show the task yet; asking again later",
				map[string]any{"task_id": taskID, "not_found_answers": unknown})
		case isPermanent(err):
			return last, fmt.Errorf("waiting for task %s: %w", taskID, err)
		default:
			c.logger.Debug(ctx, "kie status query failed; polling again later",
				map[string]any{"task_id": taskID, "error": c.redact(err.Error())})
		}

		interval = c.nextPollInterval(c.clock.Now().Sub(start), interval)
		if c.callbackPoll > 0 && !notVisible {
			interval = c.callbackPoll // callbacks wake us; polls are only the safety net
		}
		select {
		case <-c.clock.After(jitter(interval)):
		case <-wake:
		case <-ctx.Done():
			return last, waitCanceled(ctx, taskID, state(last))
		}
	}
}

func waitCanceled(ctx context.Context, taskID, state string) error {
	return fmt.Errorf("waiting for task %s (last status %s): %w; the task id is kept, apply again to resume",
		taskID, state, ctx.Err())
}

// isPermanent reports a definite refusal (bad key, no credits, unknown task) that polling again
// will not change.
func isPermanent(err error) bool {
	if errors.Is(err, ErrMissingAPIKey) {
		return true
	}
	var e *APIError
	return errors.As(err, &e) && !e.malformed && classifyCode(e.Code) == failPermanent
}

// nextPollInterval follows the API's advice: every min interval for the first 30s, then growing
// to 5-10s for the first two minutes, then toward the max interval.
func (c *Client) nextPollInterval(elapsed, prev time.Duration) time.Duration {
	var d time.Duration
	switch {
	case elapsed < 30*time.Second || prev == 0:
		d = c.pollMin
	case elapsed < 2*time.Minute:
		d = min(max(prev*3/2, 5*time.Second), 10*time.Second, c.pollMax)
	default:
		d = min(prev*3/2, c.pollMax)
	}
	return max(d, c.pollMin)
}

// jitter spreads d by ±15% so that parallel waiters do not poll in lockstep.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.85 + 0.3*rand.Float64()))
}

// firstWait is how long WaitTask waits before its first status query.
func (c *Client) firstWait() time.Duration {
	if c.callbackPoll > 0 {
		return c.callbackPoll
	}
	return c.firstPoll
}

// maxEarlyNotices bounds the callbacks remembered for tasks nobody waits for yet.
const maxEarlyNotices = 10000

// Notify wakes a WaitTask or WaitMarketTask on taskID early, for a callback receiver. A callback can beat the waiter
// (a fast task, or a resumed one), so a notice for a task nobody waits for is kept, boundedly, and
// wakes the next WaitTask on it at once.
func (c *Client) Notify(taskID string) {
	taskID = strings.TrimSpace(taskID)
	c.waitMu.Lock()
	defer c.waitMu.Unlock()
	if len(c.waiters[taskID]) == 0 {
		if len(c.early) < maxEarlyNotices {
			c.early[taskID] = struct{}{}
		}
		return
	}
	for _, ch := range c.waiters[taskID] {
		select {
		case ch <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

func (c *Client) register(taskID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	c.waitMu.Lock()
	c.waiters[taskID] = append(c.waiters[taskID], ch)
	if _, ok := c.early[taskID]; ok {
		delete(c.early, taskID)
		ch <- struct{}{}
	}
	c.waitMu.Unlock()
	return ch, func() {
		c.waitMu.Lock()
		defer c.waitMu.Unlock()
		rest := slices.DeleteFunc(c.waiters[taskID], func(x chan struct{}) bool { return x == ch })
		if len(rest) == 0 {
			delete(c.waiters, taskID)
		} else {
			c.waiters[taskID] = rest
		}
	}
}
