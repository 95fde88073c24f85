package main

import (
	"errors"
	"io"
)

func runIngest(args []string, stdout io.Writer) error {
	return errors.New("not built yet")
}
