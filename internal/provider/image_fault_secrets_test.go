package provider

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// Promise 6 for kie_image: the API key never appears in state, plans, errors or the TRACE log, through
// the Market API's faults and answers (see TestAccFault_apiKeyNeverLeaks for how it is searched).
func TestAccImageFault_apiKeyNeverLeaks(t *testing.T) {
	image := func(prompt string) func(string) string {
		return func(out string) string {
			return fmt.Sprintf(`
data "kie_credits" "account" {}

resource "kie_image" "test" {
  model       = "google/nano-banana"
  input       = { prompt = %s, output_format = "png" }
  output_path = %s
}
`, hcl(prompt), hcl(out))
		}
	}
	noFile := func(prompt string) func(string) string {
		return func(string) string {
			return fmt.Sprintf("\nresource \"kie_image\" \"test\" {\n  model = \"google/nano-banana\"\n  input = { prompt = %s }\n}\n", hcl(prompt))
		}
	}
	const prompt = "a brass key on velvet"
	type scenario struct {
		secretScenario
		opts kiemock.Options
	}
	scenarios := []scenario{
		{secretScenario: secretScenario{name: "kie_image success", key: secretKey, body: image(prompt)}},
		{secretScenario: secretScenario{name: "kie_image success-key-from-env", key: secretKey, inEnv: true, body: image(prompt)}},
		{secretScenario: secretScenario{
			name: "kie_image 401-wrong-long-key", key: wrongSecretKey, body: noFile(prompt),
			err:     errText("KIE rejected the API key", "No task was created"),
			logMust: []string{"KIE rejected the API key"},
		}},
		{secretScenario: secretScenario{
			name: "kie_image 401-wrong-long-key-from-env-in-http-200", key: wrongSecretKey, inEnv: true, body: noFile(prompt),
			err:     errText("KIE rejected the API key", "(code 401, HTTP 200)"),
			logMust: []string{"KIE rejected the API key"},
		}, opts: kiemock.Options{ErrorsAsHTTP200: true, MessageKey: kiemock.MessageKeyMessage}},
		{secretScenario: secretScenario{
			name: "kie_image 500-on-createTask", key: secretKey, body: noFile(prompt),
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointCreateTask, Kind: kiemock.FaultStatus, Status: 500})
			},
			err:     errText("Generation request outcome unknown"),
			logMust: []string{"Generation request outcome unknown"},
		}},
		{secretScenario: secretScenario{
			name: "kie_image drop-after-createTask", key: secretKey, body: noFile(prompt),
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointCreateTask, Kind: kiemock.FaultDropAfterCreate})
			},
			err:     errText("Generation request outcome unknown", "EOF"),
			logMust: []string{"Generation request outcome unknown"},
		}},
		{secretScenario: secretScenario{
			// A maintenance refusal (retried), then a sub-key refusal that quotes the key.
			name: "kie_image 455-then-433-echoing-the-key", key: secretKey, body: noFile(prompt),
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointCreateTask, Kind: kiemock.FaultStatus, Status: 455, RetryAfter: "0.2"})
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointCreateTask, Kind: kiemock.FaultBodyCode, BodyCode: 433,
					Message: "The usage of sub-key " + secretKey + " exceeds its limit"})
			},
			err:     errText("KIE refused the API key's usage", "[REDACTED]", "No task was created"),
			errMust: []string{"[REDACTED]"},
			logMust: []string{"service under maintenance", "[REDACTED]"},
		}},
		{secretScenario: secretScenario{
			name: "kie_image 429s-on-createTask-and-recordInfo", key: secretKey, body: image(prompt),
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointCreateTask, Kind: kiemock.FaultStatus, Status: 429})
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointMarketRecordInfo, Kind: kiemock.FaultStatus, Status: 429})
			},
			logMust: []string{"rate limited"},
		}},
		{secretScenario: secretScenario{
			name: "kie_image recordInfo-is-null-after-create", key: secretKey, body: image(prompt),
			logMust: []string{"KIE does not show the task yet"},
		}, opts: kiemock.Options{RecordInfoNullQueries: 2}},
		{secretScenario: secretScenario{
			name: "kie_image download-faults", key: secretKey, body: image(prompt),
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointFile, Kind: kiemock.FaultStatus, Status: 503})
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointFile, Kind: kiemock.FaultTruncatedImage})
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointFile, Kind: kiemock.FaultExpiredLink})
			},
			logMust: []string{"unexpected EOF", "op=download-url"},
		}},
		{secretScenario: secretScenario{
			// A rejection long enough that the message is cut inside the key.
			name: "kie_image server-echoes-the-key", key: secretKey, body: noFile(prompt),
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointCreateTask, Kind: kiemock.FaultStatus, Status: 401,
					Message: strings.Repeat("y", 280) + " Bearer " + secretKey + " is not valid"})
			},
			err:     errText("KIE rejected the API key"),
			errMust: []string{"[REDACTED]"},
			logMust: []string{"KIE rejected the API key", "[REDACTED]"},
		}},
		{secretScenario: secretScenario{
			name: "kie_image server-echoes-the-key-while-waiting", key: secretKey, body: image(prompt),
			setup: func(s *kiemock.Server) {
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointMarketRecordInfo, Kind: kiemock.FaultBodyCode, BodyCode: 500,
					Message: "upstream rejected Authorization: Bearer " + secretKey})
				s.InjectFault(kiemock.Fault{Endpoint: kiemock.EndpointFile, Kind: kiemock.FaultHTML, Status: 502,
					Message: "Authorization: Bearer " + secretKey})
			},
			logMust: []string{"[REDACTED]"},
		}},
		{secretScenario: secretScenario{
			// KIE fails the task with a failMsg quoting the create request's Authorization header: the
			// error, fail_message in state and the log show it redacted.
			name: "kie_image failed-task-echoes-the-key", key: secretKey, body: image(prompt + " " + kiemock.MarkerEchoAuthFail),
			err: errText("Image generation failed", "re:task\\s+"+imgFaultTaskID, "fail code 500",
				"Authorization: Bearer [REDACTED]", "next apply starts a new generation"),
			errMust:           []string{"Authorization: Bearer [REDACTED]"},
			logMust:           []string{"Image generation failed", "[REDACTED]"},
			refreshAfterError: true,
		}},
	}
	for _, sc := range scenarios {
		t.Run(strings.TrimPrefix(sc.name, "kie_image "), func(t *testing.T) {
			// Not parallel: the logging environment is process-wide.
			sc.op = "createTask"
			runSecretScenario(t, sc.secretScenario, sc.opts)
		})
	}
}
