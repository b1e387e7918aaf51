# Two commands do all set-up on a fresh machine: `make quickstart` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: setup quickstart test bench datasets leaderboard check-leaderboard clean

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

# The committed entries were scored on the quick start's simulated dataset; the simulation is
# deterministic, so it is rebuilt here (about 10 s) rather than stored.
DATA_ROOT := build/datasets
SIMULATED := $(DATA_ROOT)/simulated-n4000

$(SIMULATED): $(STAMP)
	$(VENV)/bin/sommelier sim --n 4000 --seed 0 --out $(DATA_ROOT)/sim-n4000 --quiet
	$(VENV)/bin/sommelier data build --source sim:$(DATA_ROOT)/sim-n4000 --out $@ --quiet

datasets: $(SIMULATED)

# Score every entry here and regenerate leaderboard/, each results.json and README's table.
leaderboard: $(SIMULATED)
	$(VENV)/bin/sommelier leaderboard --readme README.md --data-root $(DATA_ROOT)

# What CI runs: fail, naming the file, if anything committed differs from a fresh scoring.
check-leaderboard: $(SIMULATED)
	$(VENV)/bin/sommelier leaderboard --check --readme README.md --data-root $(DATA_ROOT)

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks quickstart-out build
