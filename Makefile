# billingplans: the two commands a new user needs are `make run` and `make test`.
GO ?= go
DB ?= ./data/billing.db
ADDR ?= 127.0.0.1:8080

.PHONY: run test bench build generate check-generated fmt-check vet loadtest

## run: create the database, seed demo data when it is empty, serve on $(ADDR)
run:
	$(GO) run ./cmd/billingplans serve --db $(DB) --addr $(ADDR) --seed-if-empty

## test: vet, formatting, generated views up to date, and every test with the race detector
test: vet fmt-check check-generated
	$(GO) test -race -count=1 ./...

## bench: the benchmarks behind docs/performance.md
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./store/... ./web/...

## loadtest: serve a database seeded at $(SCALE) (small, medium or large; seeded once
## into /tmp) on loopback and measure each page, Pay now, Renew and the usage API
## at 8, 32 and 128 connections; the pages are driven by wrk when it is installed
## (apt-get install wrk); LOADTEST_FLAGS adds flags (see `billingplans loadtest -h`)
SCALE ?= medium
loadtest:
	$(GO) build -o bin/billingplans ./cmd/billingplans
	./bin/billingplans loadtest --scale $(SCALE) $(LOADTEST_FLAGS)

build:
	$(GO) build -o bin/billingplans ./cmd/billingplans

## generate: regenerate the templ components (*_templ.go are committed)
generate:
	$(GO) tool templ generate -path views

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l cmd web views static store); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# check-generated regenerates the templ components in a scratch copy and fails
# when they differ from the committed ones.
check-generated:
	@tmp=$$(mktemp -d) && cp -r views $$tmp/ && \
	$(GO) tool templ generate -path $$tmp/views >/dev/null 2>&1 && \
	diff -r views $$tmp/views >/dev/null || { echo "views: run 'make generate' and commit the *_templ.go files"; rm -rf $$tmp; exit 1; }; \
	rm -rf $$tmp
