# archspace: `make demo` runs the main job (the design-space study), `make test` runs the test suite.
# Both create .venv in the repository root and install everything first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FMNIST_DIR := /usr/share/datasets/fashion-mnist

.PHONY: setup demo test lint bench data browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build of torch must come first: a looser requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[all,dev]"
	touch $(STAMP)

setup: $(STAMP) data browser

# Fashion-MNIST from Debian's package, where we can install it (root); otherwise say how.
data:
	@if [ ! -f $(FMNIST_DIR)/train-images-idx3-ubyte.gz ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    (apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null && apt-get install -y -qq dataset-fashion-mnist >/dev/null)) || \
	     echo "note: could not install dataset-fashion-mnist; tests that need it will be skipped"; \
	  else \
	    echo "note: Fashion-MNIST not found in $(FMNIST_DIR); install the Debian package dataset-fashion-mnist or set ARCHSPACE_FASHION_MNIST"; \
	  fi; \
	fi

# Headless Chromium for the HTML-report browser test, from Debian's packages where we can install
# them (root) and only when chromium is not on PATH already; otherwise that test is skipped.
browser:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    (DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null)) || \
	     echo "note: could not install chromium; the HTML-report browser test will be skipped"; \
	  else \
	    echo "note: chromium not found; install the Debian packages chromium and chromium-driver to run the HTML-report browser test"; \
	  fi; \
	fi

# The main job: the design-space study (AnyNetX_A..E and RegNetX on Fashion-MNIST), 6 spaces x 32 models,
# 1 epoch on 6,000 images each: 12 min 26 s on 2 cores (measured, seed 0; seed 1 11 min 48 s; docs/design-study).
# Rerunning resumes; the report lands in runs/design-study/report.html.
demo: setup
	$(BIN)/archspace design-study --db runs/design-study.db --out runs/design-study

test: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check src tests benchmarks examples

bench: setup
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build dist src/*.egg-info
