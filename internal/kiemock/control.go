package kiemock

import (
	"encoding/json"
	"net/http"
	"strings"
)

// handleControl serves /_mock/: unauthenticated test controls for the
// standalone command and for clients in other languages.
func (s *Server) handleControl(w http.ResponseWriter, r *http.Request) {
	route := strings.TrimPrefix(r.URL.Path, controlPrefix)
	type reply = map[string]any
	switch {
	case route == "health" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, reply{"ok": true})
	case route == "stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Stats())
	case route == "tag-stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.TagStats())
	case route == "reset-stats" && r.Method == http.MethodPost:
		s.ResetStats()
		writeJSON(w, http.StatusOK, s.Stats())
	case route == "faults" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Faults())
	case route == "faults" && r.Method == http.MethodPost:
		var f Fault
		body, err := readBody(r, 64<<10)
		if err == nil {
			err = json.Unmarshal(body, &f)
		}
		if err == nil {
			err = f.Validate()
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, reply{"error": err.Error()})
			return
		}
		s.InjectFault(f)
		writeJSON(w, http.StatusOK, s.Faults())
	case route == "faults" && r.Method == http.MethodDelete:
		s.ClearFaults()
		writeJSON(w, http.StatusOK, s.Faults())
	case route == "expire-links" && r.Method == http.MethodPost:
		s.ExpireLinks()
		writeJSON(w, http.StatusOK, reply{"ok": true})
	case route == "credits" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, reply{"credits": s.Credits()})
	case route == "credits" && r.Method == http.MethodPost:
		var req struct {
			Credits *float64 `json:"credits"`
		}
		body, err := readBody(r, 4096)
		if err == nil {
			err = json.Unmarshal(body, &req)
		}
		if err != nil || req.Credits == nil {
			writeJSON(w, http.StatusBadRequest, reply{"error": `want {"credits": <number>}`})
			return
		}
		s.SetCredits(*req.Credits)
		writeJSON(w, http.StatusOK, reply{"credits": s.Credits()})
	case route == "tasks" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Tasks())
	case strings.HasPrefix(route, "tasks/") && r.Method == http.MethodGet:
		t, ok := s.Task(strings.TrimPrefix(route, "tasks/"))
		if !ok {
			writeJSON(w, http.StatusNotFound, reply{"error": "task not found"})
			return
		}
		writeJSON(w, http.StatusOK, t)
	case s.handleMarketControl(w, r, route):
	default:
		writeJSON(w, http.StatusNotFound, reply{"error": "unknown control endpoint " + r.Method + " " + r.URL.Path})
	}
}
