package store

import (
	"context"
	"strings"
	"testing"
)

func TestDecodeUsageEvent(t *testing.T) {
	for _, tc := range []struct {
		name, line, account, wantErr string
	}{
		{"a good event is read", `{"id":"e1","account":"acme","service":"gpu","quantity":"3.5","at":"2026-11-02T10:00:00+07:00"}`, "", ""},
		{"a quantity must be a string", `{"id":"e1","account":"acme","service":"gpu","quantity":3.5,"at":"2026-11-02T10:00:00+07:00"}`, "", "quantity must be a string"},
		{"a quantity must be positive", `{"id":"e1","account":"acme","service":"gpu","quantity":"0","at":"2026-11-02T10:00:00+07:00"}`, "", "greater than 0"},
		{"an exponent is not a plain decimal", `{"id":"e1","account":"acme","service":"gpu","quantity":"1e3","at":"2026-11-02T10:00:00+07:00"}`, "", "not a number"},
		{"an instant needs an offset", `{"id":"e1","account":"acme","service":"gpu","quantity":"1","at":"2026-11-02T10:00:00"}`, "", "RFC 3339"},
		{"an unknown field is refused", `{"id":"e1","account":"acme","service":"gpu","quantity":"1","at":"2026-11-02T10:00:00Z","extra":1}`, "", "unknown field"},
		{"the id is required", `{"account":"acme","service":"gpu","quantity":"1","at":"2026-11-02T10:00:00Z"}`, "", "id is required"},
		{"a file's event names its account", `{"id":"e1","service":"gpu","quantity":"1","at":"2026-11-02T10:00:00Z"}`, "", "account is required"},
		{"an API event must not name an account", `{"id":"e1","account":"other","service":"gpu","quantity":"1","at":"2026-11-02T10:00:00Z"}`, "acme", "decided by the API key"},
		{"broken JSON says so", `{"id":"e1",`, "", "not a usage event"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := DecodeUsageEvent([]byte(tc.line), tc.account)
			if tc.wantErr == "" {
				if err != nil || ev.ID != "e1" || ev.AccountCode != "acme" || ev.Quantity.String() != "3.5" || ev.At.UTC().Hour() != 3 {
					t.Fatalf("got %+v, %v", ev, err)
				}
				return
			}
			if err == nil || !strings.Contains(ErrorMessage(err), tc.wantErr) {
				t.Errorf("got %v, want an error saying %q", err, tc.wantErr)
			}
		})
	}
}

func TestIngestReportsBadLinesAndAppliesTheGoodOnes(t *testing.T) {
	f := mustLedgerFixture(t, VND, "Asia/Ho_Chi_Minh")
	f.plan(t, "BP-1", "2026-10-01", "2026-12-31", 1_000_000, map[string]string{"gpu": "1000"})
	file := strings.Join([]string{
		`{"id":"e1","account":"acme","service":"gpu","quantity":"2","at":"2026-11-02T10:00:00+07:00"}`,
		`not json`,
		``,
		`{"id":"e2","account":"acme","service":"nothing","quantity":"1","at":"2026-11-02T10:00:00+07:00"}`,
		`{"id":"e1","account":"acme","service":"gpu","quantity":"2","at":"2026-11-02T10:00:00+07:00"}`,
		`{"id":"e3","account":"acme","service":"gpu","quantity":"100","at":"2026-11-03T10:00:00+07:00"}`,
	}, "\n")
	rep, err := f.db.Ingest(context.Background(), strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Applied != 2 || rep.Duplicates != 1 || rep.Rejected != 2 {
		t.Errorf("got applied %d, duplicates %d, rejected %d; want 2, 1, 2", rep.Applied, rep.Duplicates, rep.Rejected)
	}
	lines := map[int]bool{}
	for _, p := range rep.Problems {
		lines[p.Line] = true
	}
	if len(lines) != 2 || !lines[2] || !lines[4] {
		t.Errorf("problems on lines %v, want 2 and 4 (%+v)", lines, rep.Problems)
	}
	// 102 hours at 1,000 on the plan; nothing else has credit, nothing is uncovered.
	if d := rep.Drawn[VND]; d == nil || d.Plan != 102_000 || d.Uncovered != 0 {
		t.Errorf("drawn: %+v, want 102000 from the plan", rep.Drawn[VND])
	}
	if got := mustInt(t, f.db, `SELECT consumed FROM plans`); got != 102_000 {
		t.Errorf("consumed %d, want 102000", got)
	}
}

func FuzzDecodeUsageEvent(f *testing.F) {
	f.Add([]byte(`{"id":"e1","account":"acme","service":"gpu","quantity":"3.5","at":"2026-11-02T10:00:00+07:00"}`), "")
	f.Add([]byte(`{"id":"e1","service":"gpu","quantity":"-0.000","at":"2026-11-02T10:00:00Z"}`), "acme")
	f.Fuzz(func(t *testing.T, data []byte, account string) {
		// The fast path must read exactly what encoding/json reads.
		if fast, ok := scanUsageEvent(data); ok {
			slow, err := decodeUsageEventJSON(data)
			if err != nil || fast.ID != slow.ID || fast.Service != slow.Service || fast.Quantity != slow.Quantity ||
				fast.At != slow.At || (fast.Account == nil) != (slow.Account == nil) || (fast.Account != nil && *fast.Account != *slow.Account) {
				t.Fatalf("%q: the fast path read %+v, encoding/json %+v (%v)", data, fast, slow, err)
			}
		}
		ev, err := DecodeUsageEvent(data, account)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("a bad event must be EINVALID, got %v", err)
			}
			return
		}
		if ev.ID == "" || ev.AccountCode == "" || !ev.Quantity.IsPositive() || ev.At.IsZero() {
			t.Fatalf("accepted an event that breaks the format: %+v", ev)
		}
	})
}
