# Atrium: `make run` starts the server on the embedded defaults, `make test`
# runs every test (on PostgreSQL too when ATRIUM_TEST_DATABASE_URL is set).

GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

# npm packages the tests drive Atrium with (the official socket.io-client).
NPM_TEST_DIRS := hub/testdata/sio gateway/testdata/openai agents/mcp/testdata/npm

.PHONY: run build test vet npm-test-deps

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/atrium ./cmd/atrium

run: build
	./bin/atrium serve

vet:
	$(GO) vet ./...

npm-test-deps:
	@for d in $(NPM_TEST_DIRS); do npm ci --prefix $$d --no-audit --no-fund --loglevel=error || exit 1; done

test: vet npm-test-deps
	$(GO) test -race -count=1 -timeout 20m ./...

# loadtest measures a freshly built server (see loadtest/doc.go): memory per
# idle connection, fan-out latency, many chats streaming at once. E.g.
#   make loadtest LOADTEST_ARGS='-scenario fanout -watchers 2000 -check'
LOADTEST_ARGS ?= -scenario all

.PHONY: loadtest
loadtest: build
	$(GO) run ./loadtest -bin bin/atrium $(LOADTEST_ARGS)
