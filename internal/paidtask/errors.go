package paidtask

import (
	"errors"
	"fmt"
)

// Kind says what became of a paid task that did not end with its results stored.
type Kind int

const (
	// Pending: accepted and paid, but waiting or downloading did not finish here. Kept in state and the
	// ledger; the next apply finishes the same task.
	Pending Kind = iota
	// Failed: the task ended at KIE without an image. The next apply starts a new generation.
	Failed
	// Lost: a resumed task KIE does not know. Buried, and dropped from state.
	Lost
	// Unreadable: a resumed task the configured key may not read. Kept.
	Unreadable
)

// Error is a task that did not end with its results stored.
type Error struct {
	Kind   Kind
	TaskID string
	Stored bool // for Pending: the task ended at KIE and storing its results failed
	Err    error
}

func (e *Error) Error() string {
	switch e.Kind {
	case Failed:
		return e.Err.Error()
	case Lost:
		return fmt.Sprintf("task %s is unknown to KIE: %v", e.TaskID, e.Err)
	case Unreadable:
		return fmt.Sprintf("task %s cannot be read with this API key: %v", e.TaskID, e.Err)
	}
	if e.Stored {
		return fmt.Sprintf("task %s: storing its results failed: %v", e.TaskID, e.Err)
	}
	return fmt.Sprintf("task %s: waiting for it did not finish: %v", e.TaskID, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// IsLost reports a task that can never finish and must leave state.
func IsLost(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Kind == Lost
}
