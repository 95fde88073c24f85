package web

import (
	"context"
	"errors"
	"net/http"
	"syscall"

	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
	"github.com/billingplans/billingplans/views"
)

// handleError is the one place a failed request is answered: it maps the error
// to a status and a message fit for the user, logs what the user must not see,
// and renders the error page (JSON under /api/). Unknown routes come here as
// echo's 404 and get the same page as a missing plan code.
func (s *Server) handleError(err error, c echo.Context) {
	r := c.Request()
	// A client that went away (closed the tab, a load generator stopping)
	// cancels its request's context, or closes the connection while the page
	// is being written: nothing failed on our side, and there is no one left
	// to answer.
	if (errors.Is(err, context.Canceled) && r.Context().Err() != nil) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
		s.log.Debug("client went away", "method", r.Method, "path", r.URL.Path, "err", err)
		return
	}
	status, msg := errorResponse(err)
	if status >= http.StatusInternalServerError {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	} else {
		s.log.Debug("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	if c.Response().Committed {
		return
	}
	if r.Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	if isAPI(r.URL.Path) {
		if err := c.JSON(status, map[string]string{"error": msg}); err != nil {
			s.log.Error("write error response", "err", err)
		}
		return
	}
	page := views.ErrorPage{Page: s.page(c, errorTitle(status), ""), Status: status, Message: msg}
	if err := s.render(c, status, views.Error(page)); err != nil {
		s.log.Error("render error page", "err", err)
		c.String(status, msg)
	}
}

// errorResponse returns the status and the user's message for err: a store
// error by its code, echo's errors by their status, anything else as 500 with
// a message that says nothing of the cause.
func errorResponse(err error) (int, string) {
	var se *store.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &se):
		switch se.Code {
		case store.EINVALID:
			if se.Field != "" {
				return http.StatusUnprocessableEntity, se.Message
			}
			return http.StatusBadRequest, se.Message
		case store.ENOTFOUND:
			return http.StatusNotFound, se.Message
		case store.ECONFLICT:
			return http.StatusConflict, se.Message
		case store.EFORBIDDEN:
			return http.StatusForbidden, se.Message
		case store.EUNAUTHORIZED:
			return http.StatusUnauthorized, se.Message
		}
	case errors.As(err, &he):
		return he.Code, statusMessage(he.Code)
	}
	return http.StatusInternalServerError, internalErrorMessage
}

// internalErrorMessage is all a user learns of a failure on our side.
const internalErrorMessage = "Something went wrong on our side. Please try again."

// statusMessage is what the error page says for a status raised by echo or
// its middleware, whose own messages are meant for developers.
func statusMessage(status int) string {
	switch status {
	case http.StatusNotFound:
		return "There is no such page."
	case http.StatusForbidden:
		return "This form was sent from another site, or is out of date. Go back, reload the page and try again."
	case http.StatusMethodNotAllowed:
		return "This page cannot be used that way."
	case http.StatusRequestEntityTooLarge:
		return "What you sent is too large."
	case http.StatusBadRequest:
		return "The request could not be understood."
	case http.StatusTooManyRequests:
		return "Too many requests. Please wait a moment and try again."
	}
	if status >= http.StatusInternalServerError {
		return internalErrorMessage
	}
	return http.StatusText(status) + "."
}

// errorTitle is the heading of the error page for status.
func errorTitle(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Not found"
	case http.StatusForbidden:
		return "Not allowed"
	case http.StatusUnauthorized:
		return "Please sign in"
	}
	if t := http.StatusText(status); t != "" && status < http.StatusInternalServerError {
		return t
	}
	return "Something went wrong"
}
