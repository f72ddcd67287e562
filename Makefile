# Atrium: `make run` starts the server on the embedded defaults, `make test`
# runs every test (on PostgreSQL too when ATRIUM_TEST_DATABASE_URL is set).

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: run build test vet

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/atrium ./cmd/atrium

run: build
	./bin/atrium serve

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -race -count=1 -timeout 20m ./...
