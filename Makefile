# engineio-session: every target installs what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node-fixtures/node_modules/.installed
PYTEST := $(BIN)/python -m pytest

.PHONY: install services test demo demo-serve lint vectors bench bench-all fuzz clean

install: $(PY_STAMP) $(NODE_STAMP)

# setup.py and the C source too: an edited _speedups.c is compiled again
$(PY_STAMP): pyproject.toml setup.py src/engineio_session/_speedups.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): node-fixtures/package.json node-fixtures/package-lock.json
	cd node-fixtures && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# the servers and system packages the tests talk to, checked, started or installed
services:
	scripts/ensure-services

test: install services
	$(PYTEST)

# the whole flow on the embedded default store (session-file-store in a temporary
# directory); `make demo STORE=redis` on the local Redis
STORE ?= file
demo: install
	$(BIN)/python demo/run.py --store $(STORE)

# both servers up, and the URL of a page to do the same in a browser
demo-serve: install
	$(BIN)/python demo/run.py --serve --store $(STORE)

lint: install
	$(BIN)/ruff check src tests benchmarks demo
	$(BIN)/ruff format --check src tests benchmarks demo
	$(BIN)/mypy --strict src

vectors: install
	cd node-fixtures && node gen-vectors.js

# the micro-benchmarks (pytest-benchmark, beside Node), then the handshake benchmark of
# issue 10 (wrk, installed from Debian's packages where missing; Node and Python servers on
# 20,000 Node-made sessions; py-spy profile; then each session server beside its plain
# server, loaded in turn in 2-s slices), the same applications called in process
# (CPU and collector counts without uvicorn or wrk, and callgrind's instruction counts, which
# do not move with the machine) and the per-connection costs (reload, auto_save, memory
# with 10,000 websockets): benchmarks/handshake/. About 25 minutes (four rounds of the
# handshake benchmark, each order of the servers twice: its tables give their median).
# HANDSHAKE_ARGS / CONNECTIONS_ARGS pass options (`python -m benchmarks.handshake --help`).
HANDSHAKE_ARGS ?=
CONNECTIONS_ARGS ?=
bench: install
	scripts/ensure-services wrk
	$(PYTEST) benchmarks -p no:cacheprovider --benchmark-columns=min,median,mean,rounds --benchmark-sort=name
	$(BIN)/python -m benchmarks.handshake --profile 10 $(HANDSHAKE_ARGS)
	$(BIN)/python -m benchmarks.handshake.alternate
	$(BIN)/python -m benchmarks.handshake.inprocess --instructions
	$(BIN)/python -m benchmarks.handshake.instructions
	$(BIN)/python -m benchmarks.handshake.connections $(CONNECTIONS_ARGS)

# the same with six rounds, werkzeug beside gunicorn, and the connection costs twice
bench-all: HANDSHAKE_ARGS += --servers main,other,extra --repeat 6
bench-all: CONNECTIONS_ARGS += --repeat 2
bench-all: bench

# FUZZ_CASES cases spread over the ops (tests/core_cases.py OPS: the core and cookie-session),
# fresh random seeds each run
FUZZ_CASES ?= 1000000
fuzz: install
	FUZZ_CASES=$(FUZZ_CASES) FUZZ_RANDOM=1 $(PYTEST) tests/test_fuzz.py -s -p no:cacheprovider

clean:
	rm -rf $(VENV) node-fixtures/node_modules .pytest_cache .mypy_cache .ruff_cache .hypothesis .benchmarks
