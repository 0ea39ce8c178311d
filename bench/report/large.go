package main

import (
	"fmt"
	"math"
)

// The large apply: one apply of BENCH_LARGE_N images (5,000) with the real provider, and the same apply
// served by bench/noop-provider with KIE_NOOP=apply, whose ApplyResourceChange answers at once. At that
// size Terraform's own walk, not KIE's limit, is the floor, so the provider is judged against it.

// largeIDs are the run IDs of the large apply and of its floor.
func largeIDs(m *meta) (provider, floor string) {
	return fmt.Sprintf("large-provider-n%d-p%d", m.LargeN, m.LargePar), fmt.Sprintf("large-floor-n%d-p%d", m.LargeN, m.LargePar)
}

// LargeSection is the large apply's table.
type LargeSection struct {
	N           int     `json:"n"`
	Parallelism int     `json:"parallelism"`
	ImageScale  float64 `json:"imageScale"`
	PictureSize string  `json:"pictureSize"`
	BoundSec    float64 `json:"boundSec"` // LB(N): what the API's limits allow
	// BothSec is what Terraform's pace and the API's limits together allow (combinedBound); 0: unknown.
	BothSec float64    `json:"bothSec"`
	Rows    []LargeRow `json:"rows"`
}

// LargeRow is one of the two applies.
type LargeRow struct {
	ApplyRow
	Floor bool `json:"floor"`
	// VsFloor is the wall time over the floor's (1 for the floor; null when the floor did not run or failed).
	VsFloor    Ratio    `json:"vsFloor"`
	MockCPUSec *float64 `json:"mockCpuSec,omitempty"`
	// Milestones are when a fifth, half and all of the resources had been created (none unsampled):
	// where the two applies part.
	Milestones []Milestone `json:"milestones,omitempty"`
}

// Milestone: Created resources were created AtSec into the apply (-1: never).
type Milestone struct {
	Created int     `json:"created"`
	AtSec   float64 `json:"atSec"`
}

func milestones(r *applyRun) []Milestone {
	if len(r.created) == 0 {
		return nil
	}
	var out []Milestone
	for _, k := range []int{r.N / 5, r.N / 2, r.N} {
		m := Milestone{Created: k, AtSec: -1}
		for _, s := range r.created {
			if s.created >= k {
				m.AtSec = s.t
				break
			}
		}
		out = append(out, m)
	}
	return out
}

// LargeFigures words the large apply's targets.
type LargeFigures struct {
	N         int      `json:"n"`
	WallSec   float64  `json:"wallSec"`
	FloorSec  float64  `json:"floorSec"` // 0: the floor did not run or failed
	Ratio     Ratio    `json:"ratio"`
	BoundSec  float64  `json:"boundSec"`
	BothSec   float64  `json:"bothSec"` // see LargeSection
	BothRatio Ratio    `json:"bothRatio"`
	PeakKiB   int64    `json:"peakKiB"`
	PeakMB    float64  `json:"peakMB"`
	Failure   *Failure `json:"failure,omitempty"`
}

// largeSection is nil when neither apply ran.
func largeSection(m *meta, runs map[string]*applyRun) *LargeSection {
	pid, fid := largeIDs(m)
	pr, fr := runs[pid], runs[fid]
	if pr == nil && fr == nil {
		return nil
	}
	s := &LargeSection{N: m.LargeN, Parallelism: m.LargePar, ImageScale: m.LargeImageScale,
		PictureSize: pictureSize(m.LargeImageScale),
		BoundSec:    lowerBound(m.LargeN, m.CreateLim, m.WindowMs/1000, m.LatencyMs/1000, m.JitterMs/1000)}
	s.BothSec, _ = combinedBound(m, fr)
	vsFloor := func(r *applyRun) Ratio {
		if fr == nil || fr.ExitCode != 0 {
			return Ratio(math.Inf(1))
		}
		return Ratio(r.WallSec / fr.WallSec)
	}
	if pr != nil {
		s.Rows = append(s.Rows, LargeRow{ApplyRow: applyRow(pr, fmt.Sprintf("kie_flux_image, -parallelism=%d", pr.Parallelism)),
			VsFloor: vsFloor(pr), MockCPUSec: pr.MockCPUSec, Milestones: milestones(pr)})
	}
	if fr != nil {
		row := LargeRow{ApplyRow: applyRow(fr, fmt.Sprintf("the floor: `bench/noop-provider` (KIE_NOOP=apply), -parallelism=%d", fr.Parallelism)),
			Floor: true, VsFloor: vsFloor(fr), MockCPUSec: fr.MockCPUSec, Milestones: milestones(fr)}
		row.OK = fr.ExitCode == 0 // it writes no files
		row.NoProvider = false
		s.Rows = append(s.Rows, row)
	}
	return s
}

// largeTargets judge the large apply: its wall time against the floor's, and the provider's memory.
func largeTargets(m *meta, runs map[string]*applyRun) []Target {
	pid, fid := largeIDs(m)
	pr, fr := runs[pid], runs[fid]
	if pr == nil {
		return nil
	}
	f := &LargeFigures{N: pr.N, WallSec: pr.WallSec, Ratio: Ratio(math.Inf(1)), Failure: failure(pr),
		BoundSec: lowerBound(pr.N, m.CreateLim, m.WindowMs/1000, m.LatencyMs/1000, m.JitterMs/1000),
		PeakKiB:  pr.Sampler.ProviderPeakHWMKiB, PeakMB: mb(pr.Sampler.ProviderPeakHWMKiB)}
	if fr != nil && fr.ExitCode == 0 {
		f.FloorSec = fr.WallSec
		f.Ratio = Ratio(pr.WallSec / fr.WallSec)
	}
	if both, ok := combinedBound(m, fr); ok {
		f.BothSec, f.BothRatio = both, Ratio(pr.WallSec/both)
	}
	wall := Target{Kind: "large-wall", Large: f, Name: fmt.Sprintf("One apply of %d images within 1.15× of the same apply "+
		"with `ApplyResourceChange` answered at once (`bench/noop-provider`: Terraform's own cost for this schema), measured side by side", pr.N),
		Pass: pr.ok() && f.FloorSec > 0 && float64(f.Ratio) <= 1.15}
	if pr.N != 5000 {
		wall.Name += " (target is stated for 5000)"
	}
	mem := Target{Kind: "large-memory", Large: f, Name: fmt.Sprintf("Provider peak RSS under 300 MB during one apply of %d images", pr.N),
		Pass: pr.ok() && f.PeakMB < 300}
	return []Target{wall, mem}
}

// combinedBound is the shortest wall time Terraform's own pace and KIE's limit together allow an apply
// of the floor's resources: none created sooner after the one before it than in the floor (Terraform's
// work per resource, which grows with its state), nor sooner than the create limit lets its task start
// plus a mean generation, the first task starting when the floor created its first resource. The
// floor's time after its last resource is added. False without the floor's whole timeline.
func combinedBound(m *meta, fr *applyRun) (float64, bool) {
	if fr == nil || fr.ExitCode != 0 || len(fr.created) == 0 || m.CreateLim <= 0 {
		return 0, false
	}
	n, samples := fr.N, fr.created
	// floorAt[k]: when the floor had created k resources (its samples are 200 ms apart).
	floorAt := make([]float64, n+1)
	k := 1
	for _, s := range samples {
		for ; k <= min(s.created, n); k++ {
			floorAt[k] = s.t
		}
	}
	if k <= n {
		return 0, false
	}
	window, meanGen := m.WindowMs/1000, (m.LatencyMs+m.JitterMs/2)/1000
	at := 0.0
	for k := 1; k <= n; k++ {
		api := floorAt[1] + float64((k-1)/m.CreateLim)*window + meanGen
		at = max(at+floorAt[k]-floorAt[k-1], api)
	}
	return at + fr.WallSec - floorAt[n], true
}
