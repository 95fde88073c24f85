package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// usageEventJSON is a usage event as files and the API carry it.
type usageEventJSON struct {
	ID       string  `json:"id"`
	Account  *string `json:"account"`
	Service  string  `json:"service"`
	Quantity string  `json:"quantity"`
	At       string  `json:"at"`
}

// DecodeUsageEvent reads one usage event in the format of spec/import-format.md.
// When account is "", the event must name its account; otherwise the event must
// not name one, and gets account (the usage API's key decides it). It returns an
// EINVALID error saying what is wrong.
func DecodeUsageEvent(data []byte, account string) (UsageEvent, error) {
	var j usageEventJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return UsageEvent{}, Errorf(EINVALID, "not a usage event: %s", jsonProblem(err))
	}
	if dec.More() {
		return UsageEvent{}, Errorf(EINVALID, "more than one JSON value")
	}
	ev := UsageEvent{ID: j.ID, ServiceCode: j.Service}
	switch {
	case j.ID == "":
		return ev, Errorf(EINVALID, "id is required")
	case account == "" && (j.Account == nil || *j.Account == ""):
		return ev, Errorf(EINVALID, "account is required")
	case account != "" && j.Account != nil:
		return ev, Errorf(EINVALID, "account is decided by the API key and must be left out")
	case j.Service == "":
		return ev, Errorf(EINVALID, "service is required")
	}
	ev.AccountCode = account
	if account == "" {
		ev.AccountCode = *j.Account
	}
	q, err := ParseDecimal(j.Quantity)
	if err != nil {
		return ev, Errorf(EINVALID, "quantity: %s", ErrorMessage(err))
	}
	if !q.IsPositive() {
		return ev, Errorf(EINVALID, "quantity must be greater than 0")
	}
	ev.Quantity = q
	if ev.At, err = time.Parse(time.RFC3339Nano, j.At); err != nil {
		return ev, Errorf(EINVALID, "at: %q is not an RFC 3339 instant with an offset", j.At)
	}
	return ev, nil
}

// jsonProblem says in a few words what is wrong with a JSON value.
func jsonProblem(err error) string {
	switch e := err.(type) {
	case *json.SyntaxError:
		return fmt.Sprintf("invalid JSON at byte %d", e.Offset)
	case *json.UnmarshalTypeError:
		return fmt.Sprintf("%s must be a %s", e.Field, map[bool]string{true: "string", false: e.Type.String()}[e.Type.String() == "string"])
	}
	return err.Error()
}

// IngestReport sums up one ingest run.
type IngestReport struct {
	Applied, Duplicates, Rejected int
	// Problems lists the rejected lines: line number and reason.
	Problems []IngestProblem
	// Drawn sums the amounts drawn from each credit source per currency, in minor units.
	Drawn map[Currency]*Drawn
}

// IngestProblem is one rejected line of a usage file.
type IngestProblem struct {
	Line   int
	ID     string
	Reason string
}

// IngestBatchSize is how many events the ingest command applies per transaction.
const IngestBatchSize = 1000

// Ingest reads usage events, one JSON object per line, and applies them through
// the ledger engine in batches. A bad line is reported with its line number and
// skipped; the good lines are applied. It returns an error only when reading or
// the database fails; batches applied before that stay applied, and the same
// file can be sent again (applied ids are duplicates).
func (db *DB) Ingest(ctx context.Context, r io.Reader) (IngestReport, error) {
	rep := IngestReport{Drawn: map[Currency]*Drawn{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var batch []UsageEvent
	var lines []int
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		results, err := db.ApplyUsage(ctx, batch)
		if err != nil {
			return err
		}
		for i, res := range results {
			rep.count(res, lines[i])
		}
		batch, lines = batch[:0], lines[:0]
		return nil
	}
	n := 0
	for sc.Scan() {
		n++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		ev, err := DecodeUsageEvent(text, "")
		if err != nil {
			rep.Rejected++
			rep.Problems = append(rep.Problems, IngestProblem{Line: n, ID: ev.ID, Reason: ErrorMessage(err)})
			continue
		}
		batch, lines = append(batch, ev), append(lines, n)
		if len(batch) == IngestBatchSize {
			if err := flush(); err != nil {
				return rep, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return rep, fmt.Errorf("store: read usage line %d: %w", n+1, err)
	}
	return rep, flush()
}

func (rep *IngestReport) count(res EventResult, line int) {
	switch res.Outcome {
	case Applied:
		rep.Applied++
		d := rep.Drawn[res.Currency]
		if d == nil {
			d = &Drawn{}
			rep.Drawn[res.Currency] = d
		}
		for _, s := range CreditSources {
			d.add(s, res.Drawn.Of(s))
		}
	case Duplicate:
		rep.Duplicates++
	default:
		rep.Rejected++
		rep.Problems = append(rep.Problems, IngestProblem{Line: line, ID: res.ID, Reason: res.Reason})
	}
}
