package web

// The usage API: POST /api/v1/usage takes a batch of usage events for the
// account of its API key and answers one result per event, through the same
// ledger engine as `billingplans ingest`. docs/api.yaml describes it; a test
// holds the description to the handler's real answers.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
)

// apiBodyLimit bounds the body of a usage API request: 10,000 events of a
// couple of hundred bytes each fit, with room to spare. Larger bodies get 413.
const apiBodyLimit = "4M"

// maxUsageEvents is the most events one request may carry; more is refused whole.
const maxUsageEvents = 10000

// apiAccountContextKey holds the account of the request's API key.
const apiAccountContextKey = "billingplans.api.account"

// apiAccount returns the account whose API key authenticated the request.
func apiAccount(c echo.Context) store.Account {
	a, _ := c.Get(apiAccountContextKey).(store.Account)
	return a
}

// requireAPIKey lets a request through only with a working API key in
// Authorization: Bearer <key>, and puts the key's account in the request: the
// key, never the body, decides the account. A missing, malformed, unknown or
// revoked key gets 401 with a WWW-Authenticate challenge (RFC 6750).
func (s *Server) requireAPIKey(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		scheme, key, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		key = strings.TrimSpace(key)
		if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
			h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="billingplans"`)
			return store.Errorf(store.EUNAUTHORIZED, "An API key is required: send it as Authorization: Bearer <key>.")
		}
		a, err := s.DB.AuthenticateAPIKey(c.Request().Context(), key)
		if err != nil {
			if store.ErrorCode(err) == store.EUNAUTHORIZED {
				h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="billingplans", error="invalid_token"`)
			}
			return err
		}
		c.Set(apiAccountContextKey, a)
		return next(c)
	}
}

// usageRequest is the body of POST /api/v1/usage.
type usageRequest struct {
	Events *[]json.RawMessage `json:"events"`
}

// usageResponse is the answer of POST /api/v1/usage: one result per event, in order.
type usageResponse struct {
	Results []usageResult `json:"results"`
}

// usageResult is what happened to one event. Applied and duplicate results
// carry what each credit source paid (a duplicate: the first application's);
// a rejected one says why.
type usageResult struct {
	ID       string      `json:"id"`
	Outcome  string      `json:"outcome"`
	Drawn    *usageDrawn `json:"drawn,omitempty"`
	Currency string      `json:"currency,omitempty"`
	Reason   string      `json:"reason,omitempty"`
}

// usageDrawn is the amount each credit source paid, as decimal strings in the
// currency's major unit ("12.50").
type usageDrawn struct {
	Plan      string `json:"plan"`
	Voucher   string `json:"voucher"`
	Topup     string `json:"topup"`
	Uncovered string `json:"uncovered"`
}

// resultOf returns the API's form of an engine result.
func resultOf(r store.EventResult) usageResult {
	if r.Outcome == store.Rejected {
		return usageResult{ID: r.ID, Outcome: string(r.Outcome), Reason: r.Reason}
	}
	m := func(minor int64) string { return store.Money{Minor: minor, Currency: r.Currency}.Plain() }
	return usageResult{
		ID: r.ID, Outcome: string(r.Outcome), Currency: string(r.Currency),
		Drawn: &usageDrawn{Plan: m(r.Drawn.Plan), Voucher: m(r.Drawn.Voucher), Topup: m(r.Drawn.Topup), Uncovered: m(r.Drawn.Uncovered)},
	}
}

// postUsage applies a batch of usage events to the API key's account. A body
// that is not a JSON object with an events array, or has more than
// maxUsageEvents events, is refused whole with 400 (too large: 413) and
// changes nothing. Otherwise every event gets a result, in order: an event
// that cannot be read is rejected on its own, the others go through the ledger
// engine in one transaction.
func (s *Server) postUsage(c echo.Context) error {
	a := apiAccount(c)
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		if errors.Is(err, echo.ErrStatusRequestEntityTooLarge) {
			return err
		}
		return store.Errorf(store.EINVALID, "The request body could not be read.")
	}
	events, err := decodeUsageRequest(body)
	if err != nil {
		return err
	}
	results := make([]usageResult, len(events))
	batch := make([]store.UsageEvent, 0, len(events))
	at := make([]int, 0, len(events))
	for i, raw := range events {
		ev, err := store.DecodeUsageEvent(raw, a.Code)
		if err != nil {
			results[i] = usageResult{ID: ev.ID, Outcome: string(store.Rejected), Reason: store.ErrorMessage(err)}
			continue
		}
		batch, at = append(batch, ev), append(at, i)
	}
	if len(batch) > 0 {
		applied, err := s.DB.ApplyUsage(c.Request().Context(), batch)
		if err != nil {
			return err
		}
		for j, r := range applied {
			results[at[j]] = resultOf(r)
		}
	}
	return c.JSON(http.StatusOK, usageResponse{Results: results})
}

// decodeUsageRequest returns the events of a request body, undecoded, or an
// EINVALID error that says what is wrong with the body as a whole.
func decodeUsageRequest(body []byte) ([]json.RawMessage, error) {
	var req usageRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, store.Errorf(store.EINVALID, "The body must be a JSON object {\"events\": [...]}: %s.", usageJSONProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, store.Errorf(store.EINVALID, "The body must be one JSON object; something follows it.")
	}
	if req.Events == nil {
		return nil, store.Errorf(store.EINVALID, "The body has no events array.")
	}
	if n := len(*req.Events); n > maxUsageEvents {
		return nil, store.Errorf(store.EINVALID, "The body has %d events; a request may carry at most %d.", n, maxUsageEvents)
	}
	return *req.Events, nil
}

// usageJSONProblem says in a few words what is wrong with a request body.
func usageJSONProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field == "" {
			return "it is a JSON " + te.Value + ", not an object"
		}
		return fmt.Sprintf("%s must be an array, not a JSON %s", te.Field, te.Value)
	case errors.Is(err, io.EOF):
		return "it is empty"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "it ends too soon"
	}
	// DisallowUnknownFields: `json: unknown field "x"`.
	return strings.TrimPrefix(err.Error(), "json: ")
}
