package kiemock

import (
	"encoding/json"
	"time"
)

// marketCallbackData is the data of a Market callback. Unlike recordInfo,
// KIE's callback schema gives costTime in seconds.
type marketCallbackData struct {
	TaskID          string  `json:"taskId"`
	Model           string  `json:"model"`
	State           string  `json:"state"`
	Param           string  `json:"param"`
	ResultJSON      string  `json:"resultJson,omitempty"`
	FailCode        string  `json:"failCode,omitempty"`
	FailMsg         string  `json:"failMsg,omitempty"`
	CostTime        int64   `json:"costTime"`
	CompleteTime    int64   `json:"completeTime"`
	CreateTime      int64   `json:"createTime"`
	UpdateTime      int64   `json:"updateTime"`
	CreditsConsumed float64 `json:"creditsConsumed"`
}

// marketCallbackBody is the JSON KIE posts to callBackUrl when a Market task ends.
func (s *Server) marketCallbackBody(t *marketTask) ([]byte, error) {
	s.mu.Lock()
	done := t.completedAt.UnixMilli()
	d := marketCallbackData{
		TaskID: t.id, Model: t.model.id, Param: string(t.param),
		CostTime:     int64(t.completedAt.Sub(t.createdAt).Round(time.Second) / time.Second),
		CompleteTime: done, CreateTime: t.createdAt.UnixMilli(), UpdateTime: done,
	}
	env := envelope{Code: 200, Msg: "Playground task completed successfully."}
	if t.failCode == "" {
		d.State, d.ResultJSON, d.CreditsConsumed = StateSuccess, resultJSON(t.resultURLs), t.cost
	} else {
		env.Code, env.Msg = 501, "Playground task failed."
		d.State, d.FailCode, d.FailMsg = StateFail, t.failCode, t.failMsg
	}
	s.mu.Unlock()
	env.Data = d
	return json.Marshal(env)
}

// sendMarketCallbacks delivers the callback through the same sender, retries
// and signing (X-Webhook-Timestamp/X-Webhook-Signature over taskId) as Flux.
func (s *Server) sendMarketCallbacks(t *marketTask) {
	body, err := s.marketCallbackBody(t)
	if err != nil {
		return
	}
	deliveries := 1
	if t.marks.dupCallback {
		deliveries = 2
	}
	for range deliveries {
		for attempt := 0; attempt <= s.opts.CallbackRetries; attempt++ {
			if attempt > 0 && !sleepCtx(s.ctx, time.Duration(attempt)*200*time.Millisecond) {
				return
			}
			if s.postCallback(t.post, body) {
				break
			}
			if s.ctx.Err() != nil {
				return
			}
		}
	}
}
