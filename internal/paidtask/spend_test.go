package paidtask

import (
	"errors"
	"testing"
)

// The plan counts each new image once: Terraform plans a new resource again right before creating it,
// and where one provider process serves both (terraform test) that must not count as a second image.
// The apply's count (reserve) is per request.
func TestSpendGuardCountsImagesOnceAtPlan(t *testing.T) {
	g := NewSpendGuard(2)
	for _, key := range []string{"a", "b", "a", "b", "a"} {
		if err := g.plan(key); err != nil {
			t.Fatalf("image %s planned again was counted as another: %v", key, err)
		}
	}
	if err := g.plan("c"); !errors.Is(err, ErrSpendLimit) {
		t.Fatalf("a third image: %v; want the spend limit", err)
	}
	for range 2 {
		if err := g.reserve(); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.reserve(); !errors.Is(err, ErrSpendLimit) {
		t.Fatalf("a third paid request: %v, want the spend limit", err)
	}
	g.release()
	if err := g.reserve(); err != nil {
		t.Fatalf("after a refused request was released: %v", err)
	}
	if err := NewSpendGuard(-1).plan("x"); err != nil {
		t.Fatalf("no limit: %v", err)
	}
}
