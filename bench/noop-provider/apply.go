package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// instantApply answers ApplyResourceChange at once; everything else is the real provider's.
type instantApply struct {
	tfprotov6.ProviderServer

	once sync.Once
	// types of each resource's state and identity, from the real provider's schema
	state, identity map[string]tftypes.Type
	err             error
}

func newInstantApply(s tfprotov6.ProviderServer) *instantApply {
	return &instantApply{ProviderServer: s}
}

func (s *instantApply) types(ctx context.Context) error {
	s.once.Do(func() {
		resp, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
		if err != nil {
			s.err = err
			return
		}
		s.state = map[string]tftypes.Type{}
		for name, sch := range resp.ResourceSchemas {
			s.state[name] = sch.ValueType()
		}
		s.identity = map[string]tftypes.Type{}
		if ids, err := s.GetResourceIdentitySchemas(ctx, &tfprotov6.GetResourceIdentitySchemasRequest{}); err == nil {
			for name, sch := range ids.IdentitySchemas {
				s.identity[name] = sch.ValueType()
			}
		}
	})
	return s.err
}

func (s *instantApply) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	if err := s.types(ctx); err != nil {
		return nil, err
	}
	typ, ok := s.state[req.TypeName]
	if !ok {
		return nil, fmt.Errorf("noop-provider: no schema for %s", req.TypeName)
	}
	planned, err := req.PlannedState.Unmarshal(typ)
	if err != nil {
		return nil, err
	}
	resp := &tfprotov6.ApplyResourceChangeResponse{Private: req.PlannedPrivate}
	if planned.IsNull() { // a destroy
		resp.NewState = req.PlannedState
		return resp, nil
	}
	f := newFinished(planned)
	newState, err := tftypes.Transform(planned, f.fill)
	if err != nil {
		return nil, err
	}
	dv, err := tfprotov6.NewDynamicValue(typ, newState)
	if err != nil {
		return nil, err
	}
	resp.NewState = &dv
	if req.PlannedIdentity != nil && req.PlannedIdentity.IdentityData != nil {
		if idType, ok := s.identity[req.TypeName]; ok {
			planned, err := req.PlannedIdentity.IdentityData.Unmarshal(idType)
			if err != nil {
				return nil, err
			}
			id, err := tftypes.Transform(planned, f.fill)
			if err != nil {
				return nil, err
			}
			idv, err := tfprotov6.NewDynamicValue(idType, id)
			if err != nil {
				return nil, err
			}
			resp.NewIdentity = &tfprotov6.ResourceIdentityData{IdentityData: &idv}
		}
	}
	return resp, nil
}

// finished fills the unknown values of one planned object as a finished image has them: a task id,
// status SUCCESS, result links, times, and a hash and size where a file was asked for. Any other
// unknown value becomes null, as the real Create leaves computed values it has no value for.
type finished struct {
	taskID  string
	hasPath bool
	now     string
}

func newFinished(planned tftypes.Value) *finished {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	f := &finished{taskID: "fluxkontext_" + hex.EncodeToString(b), now: time.Now().UTC().Format(time.RFC3339)}
	var attrs map[string]tftypes.Value
	if planned.As(&attrs) == nil {
		if p, ok := attrs["output_path"]; ok && p.IsKnown() && !p.IsNull() {
			f.hasPath = true
		}
	}
	return f
}

func (f *finished) fill(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
	if v.IsKnown() {
		return v, nil
	}
	steps := p.Steps()
	if len(steps) != 1 {
		return tftypes.NewValue(v.Type(), nil), nil
	}
	name, _ := steps[0].(tftypes.AttributeName)
	var val any
	switch {
	case name == "id" || name == "task_id":
		val = f.taskID
	case name == "status":
		val = "SUCCESS"
	case strings.HasSuffix(string(name), "image_url") && name != "input_image_upload_url":
		val = "https://tempfile.example/noop/" + f.taskID + ".png"
	case name == "created_at" || name == "completed_at":
		val = f.now
	case name == "output_sha256" && f.hasPath:
		sum := sha256.Sum256([]byte(f.taskID))
		val = hex.EncodeToString(sum[:])
	case name == "output_size" && f.hasPath:
		val = big.NewFloat(25_000)
	}
	if val == nil || !v.Type().Is(typeOf(val)) {
		return tftypes.NewValue(v.Type(), nil), nil
	}
	return tftypes.NewValue(v.Type(), val), nil
}

func typeOf(v any) tftypes.Type {
	if _, ok := v.(*big.Float); ok {
		return tftypes.Number
	}
	return tftypes.String
}
