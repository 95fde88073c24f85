package main

import (
	"errors"
	"io"
)

func runSeed(args []string, stdout io.Writer) error {
	return errors.New("not built yet")
}
