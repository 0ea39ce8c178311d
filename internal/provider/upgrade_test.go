package provider

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// upgradeFixtures hold a configuration and the terraform.tfstate an earlier build of the provider wrote
// for it (see each README.md): images with defaults, with every argument set, an edit chain, an edit of
// a local file and an imported task, with their downloaded files.
var upgradeFixtures = []string{"testdata/upgrade-v0", "testdata/upgrade-v1"}

// Users upgrading the provider must not be charged for it: a state written by the previous release
// plans no change with this build, without a single request to KIE, whether the CLI refreshes or not.
// A failure here means every user of the previous release would see this plan on their first run.
func TestAccUpgrade_earlierStatePlansEmpty(t *testing.T) {
	for _, fixture := range upgradeFixtures {
		t.Run(filepath.Base(fixture), func(t *testing.T) { planUpgradeFixture(t, fixture) })
	}
}

func planUpgradeFixture(t *testing.T, fixture string) {
	src, err := filepath.Abs(fixture)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"refresh", nil},
		{"no-refresh", []string{"-refresh=false"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Any request at all, API or file, is a failure: the plan must come from state and disk.
			var requests atomic.Int32
			trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				t.Errorf("upgrade plan sent %s %s", r.Method, r.URL.Path)
				http.Error(w, "no request expected", http.StatusTeapot)
			}))
			defer trap.Close()

			h := newCLIHarness(t)
			copyTree(t, src, h.dir)
			h.setenv("TF_VAR_kie_base_url", trap.URL)

			code, out := h.planExitCode(tc.args...)
			if code != 0 {
				t.Fatalf("a state written by the previous release plans changes with this build (plan %s); "+
					"every user would see this on their first plan after upgrading:\n%s", tc.name, out)
			}
			if n := requests.Load(); n != 0 {
				t.Fatalf("the upgrade plan sent %d request(s)", n)
			}
			// The plan must not have touched the downloaded images either.
			for _, name := range []string{"out/everything.png", "out/edit.jpeg", "out/from_file.jpeg"} {
				want, err := os.ReadFile(filepath.Join(src, filepath.FromSlash(name)))
				if err != nil {
					t.Fatal(err)
				}
				requireFileBytes(t, h.path(name), want)
			}
		})
	}
}

// copyTree copies the regular files under src into dst, keeping their relative paths.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
}
