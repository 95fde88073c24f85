package web

import (
	"slices"
	"strings"
)

// pickServices reads the repeatable service parameter of a filter: the values
// that name one of the known service codes, once each and sorted (so that
// generated links are canonical), and the unknown ones, once each in the order
// given, for the message beside the control.
func pickServices(values, known []string) (picked, unknown []string) {
	for _, s := range values {
		s = strings.TrimSpace(s)
		switch {
		case s == "" || slices.Contains(picked, s):
		case slices.Contains(known, s):
			picked = append(picked, s)
		case !slices.Contains(unknown, s):
			unknown = append(unknown, s)
		}
	}
	slices.Sort(picked)
	return picked, unknown
}
