# seam-nb: two commands do all set-up on a fresh Linux machine with Python 3.11:
#   make reproduce   set up .venv (once), then run the main job (papermill reports into reports/)
#   make test        set up .venv (once), then the whole test suite (nbdev_test over nbs/ + pytest tests/)
# A second run skips the install: the stamp below is newer than the files that define the environment.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.seam-nb-installed
PRESET ?= cpu
SEED ?= 0
NODEPS := $(shell sed -n 's/^nodeps_requirements *= *//p' settings.ini)

.PHONY: install reproduce test export clean-nbs check-sync lab

install: $(STAMP)

$(STAMP): settings.ini setup.py pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24" setuptools wheel
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps $(NODEPS)
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)
	@echo "seam-nb: environment ready in $(VENV)"

## The main job: every report notebook through papermill into reports/ (at this stage: the dataset report).
reproduce: install
	$(BIN)/seam-nb reproduce --preset $(PRESET) --seed $(SEED)

## The test suite: notebooks and package in sync, every notebook cell (nbdev_test), then pytest.
test: install
	$(BIN)/python tests/check_sync.py
	$(BIN)/nbdev_test --n_workers 2 --timing
	$(BIN)/python -m pytest -q tests

## Developer helpers.
export: install
	$(BIN)/nbdev_export
clean-nbs: install
	$(BIN)/nbdev_clean
lab: install
	$(BIN)/jupyter lab --allow-root --notebook-dir nbs
