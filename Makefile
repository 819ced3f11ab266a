# Run from the repository root. Each target creates .venv and installs what it needs first, if that is not done yet.
#   make lab          open JupyterLab on notebooks/ (extra options: make lab ARGS="--no-browser --port 8899")
#   make test         lint (ruff), run the unit tests, every notebook (nbval) and the site test
#   make normalise    strip what opening a notebook in JupyterLab adds (no re-execution, no data needed)
#   make notebooks    re-execute every notebook in place with its outputs, normalise them, refresh the README numbers
#   make book         build the static site from the committed notebooks (no re-execution) into _build/site
#   make slides       classroom decks (reveal.js, offline, 1280x720) from the committed notebooks into _build/slides
#   make readme       refill the measured numbers in the README and the notebooks' markdown from committed outputs
#                     (make test checks them)
#   make test-colab   a second venv, .venv-colab, with Colab's Python 3.13 and versions: unit tests and notebooks
#   make evidence     notebook 04's ablation runs on the CPU, resumed from what is committed (hours; tools/evidence.sh)
#   make gpu-check    on a CUDA machine: the GPU check, PASS/FAIL per item in under 10 minutes, on the whole CIFAR-10
#                     (benchmarks/gpu_check.py; ARGS="--minutes 5", ARGS="--data DIR"; without CUDA it exits 2)
# Variables: PYTHON (the interpreter that makes .venv; 3.11 or newer), TORCH_INDEX (a PyTorch wheel index for pip,
# e.g. https://download.pytorch.org/whl/cpu for the CPU-only build), ARGS (extra options for make lab / gpu-check).
VENV ?= .venv
PYTHON ?= python3
REQUIREMENTS ?= requirements.txt
TORCH_INDEX ?=
ARGS ?=
COLAB_VENV ?= .venv-colab
# Colab's interpreter; empty: found by tools/find_python.sh (python3.13 on PATH, else pyenv's).
COLAB_PYTHON ?=
SITE := _build/site
BIN := $(VENV)/bin
PRINT_VERSION := import sys; print("%d.%d" % sys.version_info[:2])
PY_VERSION := $(shell $(PYTHON) -c '$(PRINT_VERSION)' 2>/dev/null)
# One stamp per Python version: a .venv made by another Python has no stamp here, so the recipe below rebuilds it.
STAMP := $(VENV)/.installed-$(PY_VERSION)
CHECK_PYTHON := import sys; sys.exit(sys.version_info < (3, 11) and "gooknet needs Python 3.11 or newer, \
	but $(PYTHON) is Python %d.%d: install a newer one and run make again with PYTHON=python3.11 (or newer)" \
	% sys.version_info[:2])
# Real CIFAR-10 images for the smoke training tests: used in place where they exist beside the project, never copied.
SHARED_DATA := $(wildcard ../shared/data/cifar10-jpeg-subset)
ifneq ($(SHARED_DATA),)
export GOOKNET_DATA_DIR ?= $(abspath $(SHARED_DATA))
endif

.PHONY: install lab test test-core lint normalise normalize notebooks book slides readme test-colab gpu-check evidence

install: $(STAMP)

$(STAMP): $(REQUIREMENTS) requirements.txt requirements-docs.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or newer, or name one with PYTHON=..." >&2; exit 2; }
	@$(PYTHON) -c '$(CHECK_PYTHON)'
	@if [ -f $(VENV)/pyvenv.cfg ] && [ "$$($(BIN)/python -c '$(PRINT_VERSION)' 2>/dev/null)" != "$(PY_VERSION)" ]; then \
		echo "$(VENV) was made by another Python: rebuilding it with $(PYTHON) (Python $(PY_VERSION))"; rm -rf $(VENV); fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) -r $(REQUIREMENTS)
	touch $@

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root) $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check gooknet_helpers tests notebooks tools benchmarks book

test: lint
	$(BIN)/python -m pytest

# The unit tests and the notebooks, without the browser, site and slides tests (make test-colab runs this).
test-core: $(STAMP)
	$(BIN)/python -m pytest --ignore=tests/test_browser.py --ignore=tests/test_book.py --ignore=tests/test_slides.py

normalise: $(STAMP)
	$(BIN)/python tools/badges.py && $(BIN)/python tools/execute_notebooks.py --normalise-only notebooks/*.ipynb

normalize: normalise

# Re-execute every notebook in place with its outputs, for committing (see README).
notebooks: $(STAMP)
	$(BIN)/python tools/badges.py && $(BIN)/python tools/execute_notebooks.py notebooks/*.ipynb
	$(BIN)/python tools/readme_numbers.py

book: $(STAMP)
	$(BIN)/python -m sphinx -q -W --keep-going -c book -d _build/doctrees . $(SITE)
	@echo "site built: $(SITE)/index.html"

# One self-contained reveal.js deck per notebook of the teacher's plan, nothing re-executed (tools/build_slides.py).
slides: $(STAMP)
	$(BIN)/python tools/build_slides.py

readme: $(STAMP)
	$(BIN)/python tools/readme_numbers.py

test-colab:
	@python="$(COLAB_PYTHON)"; [ -n "$$python" ] || python="$$(tools/find_python.sh 3.13)" || exit 2; \
	$(MAKE) --no-print-directory VENV=$(COLAB_VENV) PYTHON="$$python" REQUIREMENTS=requirements-colab.txt test-core

# The GPU check trains on the whole CIFAR-10 and refuses a subset: the subset exported above for the tests is not
# passed on (a GOOKNET_DATA_DIR of your own is); the whole set beside the project is used where it exists.
FULL_DATA := $(wildcard ../shared/data/cifar10-jpeg)
GPU_CHECK_DATA := $(if $(filter environment command line,$(origin GOOKNET_DATA_DIR)),$(GOOKNET_DATA_DIR),$(FULL_DATA))
gpu-check: $(STAMP)
	env -u GOOKNET_DATA_DIR $(if $(GPU_CHECK_DATA),GOOKNET_DATA_DIR=$(abspath $(GPU_CHECK_DATA))) \
		$(BIN)/python benchmarks/gpu_check.py $(ARGS)

# Notebook 04's ablation runs over seeds, two at a time: resumes from what is committed (tools/evidence.sh).
evidence: $(STAMP)
	bash tools/evidence.sh
