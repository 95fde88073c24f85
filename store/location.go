package store

import (
	"sync"
	"time"
	_ "time/tzdata" // zone data inside the binary, so a bare machine knows Asia/Ho_Chi_Minh
)

var locations sync.Map // name -> *time.Location

// loadLocation is time.LoadLocation with a cache: zone files are parsed once.
func loadLocation(name string) (*time.Location, error) {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, loc)
	return loc, nil
}
