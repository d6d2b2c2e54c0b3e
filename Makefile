# seam-nb: two commands do all set-up on a fresh Linux machine with Python 3.11:
#   make reproduce   set up .venv (once), then run the main job (papermill reports into reports/)
#   make test        set up .venv (once), then the whole test suite (nbdev_test over nbs/ + pytest tests/)
# A second run skips the install: the stamp below is newer than the files that define the environment.
# Options: PRESET=smoke|cpu|paper  SEED=0  ROOT=/path/to/VOCdevkit/VOC2012 (paper preset)  PYTHON=/path/to/python3.11
#          TEST_WORKERS=2 (pytest processes of make test)
#          FROM_SCRATCH=1 (ignore the committed checkpoints in checkpoints/ and train every model the reports use: ~5.5 h on 2 cores)
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.seam-nb-installed
PRESET ?= cpu
SEED ?= 0
TEST_WORKERS ?= 2
NODEPS := $(shell sed -n 's/^nodeps_requirements *= *//p' settings.ini)
BROWSER_REQS := $(shell sed -n 's/^browser_requirements *= *//p' settings.ini)
BROWSER_STAMP := $(VENV)/.seam-nb-browser
# pip's config on some machines lists local indexes that lack most packages; drop those warnings, keep real errors.
QUIET_PIP := grep -v -e 'is ignored: it is neither a file nor a directory' || true

.PHONY: install browser reproduce checkpoints pretrain pretrain-calibration test export clean-nbs check-sync lab

install: $(STAMP)

$(STAMP): settings.ini setup.py pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no python3.11 on PATH; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "seam-nb: installing into $(VENV) (first time only: ~2-3 min, torch comes from the local disk)"
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24" setuptools wheel 2>&1 | { $(QUIET_PIP); }
	$(BIN)/python -m pip install --quiet -e ".[dev]" 2>&1 | { $(QUIET_PIP); }
	$(BIN)/python -m pip install --quiet --no-deps $(NODEPS) 2>&1 | { $(QUIET_PIP); }
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)
	@echo "seam-nb: environment ready in $(VENV)"

## The main job: every report notebook through papermill into reports/, then reports/README.md (the index).
## Interrupt it and run it again: finished runs, CAM caches and CRF labels are reused.
reproduce: install
	$(BIN)/seam-nb reproduce --preset $(PRESET) --seed $(SEED) $(if $(ROOT),--root $(ROOT)) $(if $(FROM_SCRATCH),--from-scratch)

## Regenerate checkpoints/ (train every model the reports use, if not already trained from scratch, and export float16).
checkpoints: install
	$(BIN)/seam-nb export-checkpoints --preset $(PRESET) $(if $(ROOT),--root $(ROOT))

## Our ImageNet stand-in for the first design (smoke preset, calibration reference): regenerates the committed
## weights/resnet18s-synth.pt (~15 min on 2 cores). Never run by reproduce. The cpu preset's backbone is
## weights/calibration/resnet18s-parts128.pt, made by the fourth line of pretrain-calibration.
pretrain: install
	$(BIN)/seam-nb pretrain --seed $(SEED)

## The pretrained backbones of the calibration's body designs (reports/calibration; ~17 + 23 + 70 + 80 + 50 min on 2 cores; an interrupted
## one resumes when rerun; the last continues the one before it at stride 4). Never run by reproduce. The lines are
## seam_nb.calibration.pretrain_command's (15a checks).
pretrain-calibration: install
	$(BIN)/seam-nb pretrain --body-style 1.0 --body-distractors 0.5 --pre-marks false --out weights/calibration/resnet18s-body.pt
	$(BIN)/seam-nb pretrain --body-style 1.0 --body-distractors 0.5 --pre-marks false --pre-size 128 --pre-steps 1500 --out weights/calibration/resnet18s-body128.pt
	$(BIN)/seam-nb pretrain --body-style 1.0 --body-distractors 0.5 --body-min 0.6 --bg-colour 0.5 --pre-marks false --pre-size 128 --pre-steps 4500 --out weights/calibration/resnet18s-strong128.pt
	$(BIN)/seam-nb pretrain --body-style 1.0 --body-distractors 1.0 --clutter-max 8 --body-min 0.6 --bg-colour 0.5 --obj-scale 0.45,0.95 --part-prob 1.0 --part-level 0.6 --pre-marks false --pre-size 128 --pre-steps 4500 --out weights/calibration/resnet18s-parts128.pt
	$(BIN)/seam-nb pretrain --body-style 1.0 --body-distractors 1.0 --clutter-max 8 --body-min 0.6 --bg-colour 0.5 --obj-scale 0.45,0.95 --part-prob 1.0 --part-level 0.6 --edge-soft 1.5 --pre-marks false --pre-size 128 --pre-steps 1000 --pre-lr 0.001 --pre-stride 4 --pre-init weights/calibration/resnet18s-parts128.pt --out weights/calibration/resnet18s-parts128s4.pt

## What the browser test needs (tests/test_browser.py): Playwright for Python in .venv (it drives the system's browser,
## no browser download) and Chromium, installed with apt-get (as root, or with password-less sudo) where it is missing
## (~1-2 min, once). Where either cannot be installed this says why (and tries again next time) and the test is skipped
## with that reason; never fatal.
browser: install $(BROWSER_STAMP)

$(BROWSER_STAMP): settings.ini
	@if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then :; \
	elif ! command -v apt-get >/dev/null; then echo "seam-nb: no Chromium and no apt-get: tests/test_browser.py will be skipped (install chromium yourself)"; \
	else SUDO=; [ "$$(id -u)" = 0 ] || SUDO="sudo -n"; \
	  echo "seam-nb: installing Chromium for the browser test (apt-get, ~1-2 min, once)"; \
	  if timeout 600 $$SUDO apt-get update -qq -o Acquire::http::Timeout=20 >/dev/null 2>&1 && \
	     DEBIAN_FRONTEND=noninteractive timeout 900 $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; \
	  then echo "seam-nb: Chromium installed: $$(command -v chromium)"; \
	  else echo "seam-nb: apt-get could not install chromium (no root, no network?): tests/test_browser.py will be skipped"; fi; fi
	@$(BIN)/python -m pip install --quiet $(BROWSER_REQS) 2>&1 | { $(QUIET_PIP); } || true
	@if ! $(BIN)/python -c 'import playwright.sync_api' 2>/dev/null; then echo "seam-nb: could not pip install $(BROWSER_REQS): tests/test_browser.py will be skipped"; \
	elif command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then touch $(BROWSER_STAMP); fi

## The test suite: notebooks and package in sync, every notebook cell (nbdev_test), then pytest (-rs: a skipped test
## says why, e.g. the browser test where Chromium could not be installed) in TEST_WORKERS processes (pytest-xdist: on 2
## cores most tests keep one core busy, so two at a time take ~30 % less wall time; every test has its own folders).
## OMP_WAIT_POLICY=PASSIVE: idle OpenMP threads sleep instead of spinning on the cores the other worker needs.
test: install browser
	$(BIN)/python tests/check_sync.py
	$(BIN)/nbdev_test --n_workers 2 --timing --skip_folder_re '^([_.]|reports$$)'
	OMP_WAIT_POLICY=PASSIVE $(BIN)/python -m pytest -q -rs --durations=12 -n $(TEST_WORKERS) --dist worksteal tests

## Developer helpers.
check-sync: install
	$(BIN)/python tests/check_sync.py
export: install
	$(BIN)/nbdev_export
clean-nbs: install
	$(BIN)/nbdev_clean
# JupyterLab at the repository root (nbs/, reports/, README.md all reachable), opening the start page nbs/index.ipynb;
# its terminals find seam-nb and papermill
# (.venv/bin first on PATH); saving a notebook runs nbdev's cleaner (tools/jupyter, repo-local: ~/.jupyter is untouched).
lab: install
	PATH="$(CURDIR)/$(BIN):$$PATH" JUPYTER_CONFIG_PATH="$(CURDIR)/tools/jupyter" OMP_WAIT_POLICY=PASSIVE \
	  $(BIN)/jupyter lab --allow-root --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/nbs/index.ipynb
