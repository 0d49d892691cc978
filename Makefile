# Two commands on a fresh machine: `make run` (the whole product, embedded) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PYTHONPATH := $(CURDIR)
# Chromium profiles and pytest temp dirs stay inside the project (see STACK.md).
export TMPDIR := $(CURDIR)/var/tmp

.PHONY: run test bench eval install install-dev browser lint-layers clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian's chromium + chromedriver for the dash_duo browser tests (root on our machines).
browser:
	@command -v chromedriver >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; }

var/tmp:
	mkdir -p var/tmp

run: install var/tmp
	$(BIN)/python -m workers.embedded

test: install-dev browser var/tmp
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# `make bench` runs every benchmark; `make bench ONLY=ingest` one of them.
bench: install-dev browser var/tmp
	$(BIN)/python -m tests.bench $(ONLY)

# `make eval`: what the fraud model is worth on the demo world's held-out days: heuristic,
# XGBoost, IsolationForest, recall per planted kind (seeds the demo world first if needed).
eval: install var/tmp
	$(BIN)/flask --app app db upgrade
	$(BIN)/flask --app app demo seed
	$(BIN)/flask --app app ml eval --tenant demo

lint-layers: install-dev
	$(BIN)/lint-imports

clean:
	rm -rf var/tmp var/test var/bench .pytest_cache
