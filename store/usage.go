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
	j, ok := scanUsageEvent(data)
	if !ok {
		var err error
		if j, err = decodeUsageEventJSON(data); err != nil {
			return UsageEvent{}, err
		}
	}
	return j.event(account)
}

// decodeUsageEventJSON reads one usage event with encoding/json, refusing
// names it does not know and anything after the object.
func decodeUsageEventJSON(data []byte) (usageEventJSON, error) {
	var j usageEventJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return j, Errorf(EINVALID, "not a usage event: %s", jsonProblem(err))
	}
	if dec.More() {
		return j, Errorf(EINVALID, "more than one JSON value")
	}
	return j, nil
}

// event checks the event as read and returns it, with its account (see
// DecodeUsageEvent).
func (j usageEventJSON) event(account string) (UsageEvent, error) {
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

// scanUsageEvent reads data as a usage event when it has the shape nearly
// every producer sends: one JSON object whose members are the event's known
// names, each at most once, with string values of printable ASCII and no
// escapes. It reports false for anything else, which DecodeUsageEvent then
// reads with encoding/json as before, so the answer is the same for every
// input: encoding/json would decode such an object to the same fields, the
// text between each pair of quotes. It exists because a decoder with its
// buffers made for every event cost a quarter of a usage API request.
func scanUsageEvent(data []byte) (usageEventJSON, bool) {
	var (
		j    usageEventJSON
		seen [5]bool
	)
	i := skipJSONSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return j, false
	}
	i = skipJSONSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return j, skipJSONSpace(data, i+1) == len(data)
	}
	for {
		name, end, ok := scanPlainJSONString(data, i)
		if !ok {
			return j, false
		}
		i = skipJSONSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return j, false
		}
		value, end, ok := scanPlainJSONString(data, skipJSONSpace(data, i+1))
		if !ok {
			return j, false
		}
		var field int
		switch string(name) {
		case "id":
			field = 0
		case "account":
			field = 1
		case "service":
			field = 2
		case "quantity":
			field = 3
		case "at":
			field = 4
		default:
			// Another name, or one in other letter case, which encoding/json
			// matches case-insensitively.
			return j, false
		}
		if seen[field] {
			return j, false
		}
		seen[field] = true
		text := string(value)
		switch field {
		case 0:
			j.ID = text
		case 1:
			j.Account = &text
		case 2:
			j.Service = text
		case 3:
			j.Quantity = text
		case 4:
			j.At = text
		}
		i = skipJSONSpace(data, end)
		if i >= len(data) {
			return j, false
		}
		switch data[i] {
		case ',':
			i = skipJSONSpace(data, i+1)
			continue
		case '}':
			return j, skipJSONSpace(data, i+1) == len(data)
		}
		return j, false
	}
}

// skipJSONSpace returns the index of the first byte at or after i that is
// not JSON white space.
func skipJSONSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// scanPlainJSONString reads the JSON string that starts at data[i] when it
// holds only printable ASCII and no escapes: its text, and the index past its
// closing quote. It reports false for any other string, or no string.
func scanPlainJSONString(data []byte, i int) ([]byte, int, bool) {
	if i >= len(data) || data[i] != '"' {
		return nil, 0, false
	}
	for k := i + 1; k < len(data); k++ {
		switch c := data[k]; {
		case c == '"':
			return data[i+1 : k], k + 1, true
		case c < 0x20 || c > 0x7e || c == '\\':
			return nil, 0, false
		}
	}
	return nil, 0, false
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
