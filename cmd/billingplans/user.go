package main

import (
	"errors"
	"io"
)

func runUser(args []string, stdout io.Writer) error {
	return errors.New("not built yet")
}
