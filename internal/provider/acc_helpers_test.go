package provider

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/kie-community/terraform-provider-kie/internal/kiemock"
)

// Documented output sizes of about one megapixel per aspect ratio.
var ratioSize = map[string][2]int{
	"1:1": {1024, 1024}, "16:9": {1392, 752}, "21:9": {1568, 672}, "4:3": {1184, 880},
	"3:4": {880, 1184}, "9:16": {752, 1392}, "16:21": {896, 1176},
}

func stateAttr(s *terraform.State, addr, attr string) (string, error) {
	rs, ok := s.RootModule().Resources[addr]
	if !ok {
		return "", fmt.Errorf("%s not in state", addr)
	}
	v, ok := rs.Primary.Attributes[attr]
	if !ok {
		return "", fmt.Errorf("%s has no attribute %s", addr, attr)
	}
	return v, nil
}

// checkImageFile asserts that the file at p decodes as format with the ratio's dimensions and that the
// resource's output_sha256 and output_size describe it.
func checkImageFile(addr, p, format, ratio string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("reading output file: %w", err)
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg, gotFormat, err := image.DecodeConfig(f)
		if err != nil {
			return fmt.Errorf("%s does not decode as an image: %w", p, err)
		}
		if gotFormat != format {
			return fmt.Errorf("%s is %s, want %s", p, gotFormat, format)
		}
		want := ratioSize[ratio]
		if cfg.Width != want[0] || cfg.Height != want[1] {
			return fmt.Errorf("%s is %dx%d, want %dx%d for %s", p, cfg.Width, cfg.Height, want[0], want[1], ratio)
		}
		sum := sha256.Sum256(b)
		gotSHA, err := stateAttr(s, addr, "output_sha256")
		if err != nil {
			return err
		}
		if gotSHA != hex.EncodeToString(sum[:]) {
			return fmt.Errorf("output_sha256 %s does not match the file's %x", gotSHA, sum)
		}
		gotSize, err := stateAttr(s, addr, "output_size")
		if err != nil {
			return err
		}
		if gotSize != strconv.Itoa(len(b)) {
			return fmt.Errorf("output_size %s, file has %d bytes", gotSize, len(b))
		}
		return nil
	}
}

// checkStat asserts one of the mock's counters.
func checkStat(srv *kiemock.Server, name string, get func(kiemock.Stats) int, want int) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if got := get(srv.Stats()); got != want {
			return fmt.Errorf("mock %s = %d, want %d", name, got, want)
		}
		return nil
	}
}

func posts(s kiemock.Stats) int { return s.GenerateRequests }

func checkNoFile(p string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			return fmt.Errorf("%s should not exist (stat: %v)", p, err)
		}
		return nil
	}
}

// postTaskJSON starts a task straight through the mock's HTTP API with key, as a script outside Terraform
// would, without waiting for it.
func postTaskJSON(t *testing.T, srv *kiemock.Server, key, body string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL()+"/api/v1/flux/kontext/generate", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Code int `json:"code"`
		Data struct {
			TaskID string `json:"taskId"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Code != 200 || env.Data.TaskID == "" {
		t.Fatalf("external generate failed: code %d, err %v", env.Code, err)
	}
	return env.Data.TaskID
}

// postTask is postTaskJSON with the test key and a body built from fields.
func postTask(t *testing.T, srv *kiemock.Server, fields map[string]any) string {
	t.Helper()
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return postTaskJSON(t, srv, testAPIKey, string(b))
}

// waitTaskEnded waits until the mock's task left GENERATING and returns its successFlag.
func waitTaskEnded(t *testing.T, srv *kiemock.Server, id string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if task, ok := srv.Task(id); ok && task.SuccessFlag != 0 {
			return task.SuccessFlag
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("task %s did not finish", id)
	return 0
}

// startExternalTask creates a task through the mock's HTTP API and waits until it finished.
func startExternalTask(t *testing.T, srv *kiemock.Server, body string) string {
	t.Helper()
	id := postTaskJSON(t, srv, testAPIKey, body)
	waitTaskEnded(t, srv, id)
	return id
}

// writeTestImage writes a small PNG or JPEG whose pixels depend on seed.
func writeTestImage(t *testing.T, p, format string, seed uint8) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 64; x++ {
			img.Set(x, y, color.RGBA{R: uint8(x * 4), G: uint8(y * 5), B: seed, A: 255})
		}
	}
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}
