package main

import (
	"errors"
	"io"
)

func runImport(args []string, stdout io.Writer) error {
	return errors.New("not built yet")
}
