package kiemock

import "strings"

// markerTagPrefix starts the [mock:tag=NAME] prompt marker: the request and its task are counted under
// NAME in TagStats, so that clients sharing one key (one account) can be told apart.
const markerTagPrefix = "[mock:tag="

// TagStats counts what the mock saw of the requests and tasks of one [mock:tag=NAME].
type TagStats struct {
	GenerateRequests int `json:"generateRequests"` // generate and createTask POSTs with a valid body and the tag
	TasksCreated     int `json:"tasksCreated"`     // taskIds issued
	RateLimited      int `json:"rateLimited"`      // 429s sent
	StatusQueries    int `json:"statusQueries"`    // record-info requests for the tag's tasks
}

func parseTag(prompt string) string {
	_, rest, ok := strings.Cut(prompt, markerTagPrefix)
	if !ok {
		return ""
	}
	tag, _, ok := strings.Cut(rest, "]")
	if !ok {
		return ""
	}
	return strings.TrimSpace(tag)
}

// TagStats returns a copy of the counters per tag, since the server started or since ResetStats.
func (s *Server) TagStats() map[string]TagStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]TagStats, len(s.tags))
	for k, v := range s.tags {
		out[k] = *v
	}
	return out
}

func (s *Server) countTag(tag string, f func(*TagStats)) {
	if tag == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tagLocked(tag, f)
}

func (s *Server) tagLocked(tag string, f func(*TagStats)) {
	if tag == "" {
		return
	}
	if s.tags == nil {
		s.tags = map[string]*TagStats{}
	}
	ts := s.tags[tag]
	if ts == nil {
		ts = &TagStats{}
		s.tags[tag] = ts
	}
	f(ts)
}
