package kiemock

import (
	"context"
	"fmt"
	"image"
	"strconv"
	"time"
)

// runMarketTask is the per-task worker: it fetches the input images as the
// task starts, waits out the latency, finishes the task and calls back.
func (s *Server) runMarketTask(t *marketTask) {
	defer s.workers.Done()
	if len(t.inputURLs) > 0 {
		s.loadMarketInputs(t)
	}
	timer := time.NewTimer(time.Until(t.doneAt))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-s.ctx.Done():
		return
	}
	s.finishMarket(t)
	if t.callbackURL != "" {
		s.sendMarketCallbacks(t)
	}
}

// loadMarketInputs fetches every input image like a Flux edit's input and
// keeps one thumbnail showing them all.
func (s *Server) loadMarketInputs(t *marketTask) {
	defer close(t.inputDone)
	limit := t.model.inputMax
	if limit <= 0 {
		limit = maxInputBytes
	}
	thumbs := make([]*image.RGBA, 0, len(t.inputURLs))
	var err error
	for i, u := range t.inputURLs {
		s.count(func(st *Stats) { st.InputFetches++ })
		data, _, ferr := s.fetch(s.ctx, t.base, u, limit)
		var th *image.RGBA
		if ferr == nil {
			th, ferr = decodeThumbnail(data)
		}
		if ferr != nil {
			err = fmt.Errorf("input.%s[%d]: %w", t.model.images, i, ferr)
			break
		}
		thumbs = append(thumbs, th)
	}
	var thumb *image.RGBA
	if err == nil {
		thumb = montage(thumbs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.thumb, t.inputErr, t.inputAt = thumb, err, time.Now()
}

// settleMarket finishes a task whose latency has elapsed, as settle does for
// Flux tasks, so an answer never depends on the worker's timer.
func (s *Server) settleMarket(ctx context.Context, t *marketTask) {
	s.mu.Lock()
	done := t.finished
	s.mu.Unlock()
	if done || time.Now().Before(t.doneAt) {
		return
	}
	wait := time.NewTimer(settleInputWait)
	defer wait.Stop()
	select {
	case <-t.inputDone:
		s.finishMarket(t)
	case <-wait.C:
	case <-ctx.Done():
	}
}

// finishMarket decides a task's outcome once; failed tasks are refunded.
func (s *Server) finishMarket(t *marketTask) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.finished {
		return
	}
	now := time.Now()
	completed := t.doneAt
	if t.inputAt.After(completed) {
		completed = t.inputAt
	}
	if completed.After(now) {
		completed = now
	}
	switch {
	case t.marks.flagged:
		// The failure KIE's recordInfo page shows as its example.
		t.failCode, t.failMsg = "422", "Invalid prompt: prompt contains prohibited content"
	case t.inputErr != nil:
		t.failCode, t.failMsg = "400", "input image could not be processed: "+t.inputErr.Error()
	case t.marks.generateFail:
		t.failCode, t.failMsg = "500", "generation failed (requested by "+MarkerGenerateFail+")"
	case t.marks.internalError:
		t.failCode, t.failMsg = "500", "internal error"
	case t.marks.echoAuthFail:
		t.failCode, t.failMsg = "500", "upstream refused the request with headers Authorization: "+t.authEcho
	default:
		t.resultURLs = make([]string, t.count)
		for i := range t.resultURLs {
			t.resultURLs[i] = s.linkLocked(t.base, marketFilePath(t.id, i+1, t.ext()), completed)
		}
	}
	if t.failCode != "" {
		s.credits += t.cost
		t.thumb = nil
	}
	t.finished = true
	t.completedAt = completed
	s.stats.InFlight--
}

// marketFilePath is where result n (from 1) of a Market task is served.
func marketFilePath(id string, n int, ext string) string {
	return filesPrefix + id + "-" + strconv.Itoa(n) + "." + ext
}
