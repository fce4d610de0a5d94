# The two set-up commands of the README: `make run` and `make test`. Both create .venv.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXTRAS_STAMP := $(VENV)/.extras-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run VENUE=bybit-sim`: ccxt against the in-process Bybit simulator. The simulator
# starts empty every time, so that journal is kept in memory.
VENUE ?=

.PHONY: run test lint typecheck unit bench bench-ccxt bench-mt5 bench-robinhood bench-nautilus bench-signals bench-history parity-report clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt pip==25.3
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Everything the suite exercises: the dev tools and every optional extra (NautilusTrader).
$(EXTRAS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,nautilus]'
	touch $(EXTRAS_STAMP)

run: $(STAMP)
	$(BIN)/ordergate serve --host $(HOST) --port $(PORT) \
		$(if $(VENUE),--venue $(VENUE)) $(if $(filter bybit-sim,$(VENUE)),--db :memory:)

lint: $(EXTRAS_STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples

typecheck: $(EXTRAS_STAMP)
	$(BIN)/mypy src examples

# The engine suite runs twice: on the in-memory journal with everything else, then on
# PostgreSQL (skipped without a server, except under CI=true, where it fails).
unit: $(EXTRAS_STAMP)
	$(BIN)/pytest tests
	ORDERGATE_TEST_ENGINE_STORE=postgres $(BIN)/pytest tests/unit/engine

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m bench.engine_throughput

bench-ccxt: $(STAMP)
	$(BIN)/python -m bench.ccxt_overhead --runs 5

# place → the EA's acceptance through ordergate beside a bare pyzmq client, on the MT5 EA
# simulator (one run: the issue asks for a ratio from one run).
bench-mt5: $(STAMP)
	$(BIN)/python -m bench.mt5_overhead --runs 1

# place → Robinhood's confirmation through ordergate beside bare robin_stocks calls, on the
# Robinhood simulator (one run, a ratio).
bench-robinhood: $(STAMP)
	$(BIN)/python -m bench.robinhood_overhead --runs 1

# ordergate on NautilusTrader's simulated exchange beside NautilusTrader alone (the extra).
bench-nautilus: $(EXTRAS_STAMP)
	$(BIN)/python -m bench.nautilus_overhead

# Needs PostgreSQL and RabbitMQ (ORDERGATE_TEST_PG_DSN, ORDERGATE_TEST_AMQP_URL or the defaults).
bench-signals: $(STAMP)
	$(BIN)/python -m bench.signals_end_to_end --runs 3

# A journal of 200,000 filled and 20,000 resting orders, and half of it: memory, start-up
# and verification against history (a few minutes).
bench-history: $(STAMP)
	$(BIN)/python -m bench.history

# docs/parity/btc-perp-report.md again: the paper venue against NautilusTrader on a month
# of the reference BTC bars, with the kept stream of 1,000 orders (docs/parity.md).
PARITY_BARS ?= ../shared/reference/market-data/btc-perp-20211231-20220201_1m.csv
parity-report: $(EXTRAS_STAMP)
	$(BIN)/ordergate parity --bars $(PARITY_BARS) --orders docs/parity/btc-perp-orders.jsonl \
		--quote-size 1 --report docs/parity/btc-perp-report.md > /dev/null

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
