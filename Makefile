# make lab   -- create .venv if missing, install, open JupyterLab on notebooks/
# make test  -- create .venv if missing, install, lint, run unit tests and every notebook (nbval)
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Real CIFAR-10 images for the smoke training tests: used in place where they exist beside the project, never copied.
SHARED_DATA := $(wildcard ../shared/data/cifar10-jpeg-subset)
ifneq ($(SHARED_DATA),)
export GOOKNET_DATA_DIR ?= $(abspath $(SHARED_DATA))
endif

.PHONY: lab test lint notebooks

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

lint: $(STAMP)
	$(BIN)/ruff check gooknet_helpers tests notebooks tools benchmarks

test: lint
	$(BIN)/python -m pytest

# Re-execute every notebook in place with its outputs, for committing (see README).
notebooks: $(STAMP)
	$(BIN)/python tools/badges.py && $(BIN)/python tools/execute_notebooks.py notebooks/*.ipynb
