# seam-nb: two commands do all set-up on a fresh Linux machine with Python 3.11:
#   make reproduce   set up .venv (once), then run the main job (papermill reports into reports/)
#   make test        set up .venv (once), then the whole test suite (nbdev_test over nbs/ + pytest tests/)
# A second run skips the install: the stamp below is newer than the files that define the environment.
# Options: PRESET=smoke|cpu|paper  SEED=0  ROOT=/path/to/VOCdevkit/VOC2012 (paper preset)  PYTHON=/path/to/python3.11
#          FROM_SCRATCH=1 (ignore the committed checkpoints in checkpoints/ and train every model the reports use: ~4.5 h on 2 cores)
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.seam-nb-installed
PRESET ?= cpu
SEED ?= 0
NODEPS := $(shell sed -n 's/^nodeps_requirements *= *//p' settings.ini)
# pip's config on some machines lists local indexes that lack most packages; drop those warnings, keep real errors.
QUIET_PIP := grep -v -e 'is ignored: it is neither a file nor a directory' || true

.PHONY: install reproduce checkpoints pretrain pretrain-calibration test export clean-nbs check-sync lab

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

## The test suite: notebooks and package in sync, every notebook cell (nbdev_test), then pytest.
test: install
	$(BIN)/python tests/check_sync.py
	$(BIN)/nbdev_test --n_workers 2 --timing
	$(BIN)/python -m pytest -q tests

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
