# Two commands do all set-up on a fresh machine: `make quickstart` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: setup quickstart test bench leaderboard clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@# the local CPU wheel; any other torch spec would download GBs of CUDA wheels
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q torch==2.13.0
	@$(PY) -m pip install -q -e ".[test]"
	@touch $(STAMP)

setup: $(STAMP)

quickstart: $(STAMP)
	$(VENV)/bin/sommelier quickstart

test: $(STAMP)
	$(PY) -m pytest -n 2 --benchmark-disable $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m pytest -p no:xdist --benchmark-only --benchmark-columns=min,median,ops $(PYTEST_ARGS)

leaderboard: $(STAMP)
	$(VENV)/bin/sommelier leaderboard --readme README.md

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks quickstart-out
