# cpmkit: `make install test` (the test suite + nbval on the notebooks at the ci profile),
# `make install lessons` (every lesson at the teach profile, then the run summary).
# CPMKIT_DATA_MIRROR, if set in the environment, reaches every command below (make exports it).

PYTHON ?= python
TORCH_VERSION ?= 2.13.0
# e.g. TORCH_PIP_ARGS="--index-url https://download.pytorch.org/whl/cpu" for the CPU-only wheel
TORCH_PIP_ARGS ?=
PROFILE ?= teach

# (make passes environment variables on anyway; this says so, and never exports an empty one)
ifdef CPMKIT_DATA_MIRROR
export CPMKIT_DATA_MIRROR
endif

.PHONY: install kernel lint test test-lib test-notebooks lessons report benchmarks site

install:
	$(PYTHON) -m pip install "torch==$(TORCH_VERSION)" $(TORCH_PIP_ARGS)
	$(PYTHON) -m pip install -e ".[dev]"
	$(MAKE) kernel

# papermill and nbval start a Jupyter kernel named python3 from this environment
kernel:
	$(PYTHON) -m ipykernel install --sys-prefix --name python3

# the library's tests and nbval; notebooks are committed without outputs, so --nbval-lax compares
# no stored output (the kit uses no `# NBVAL_CHECK_OUTPUT`): every cell must run, and the lessons'
# asserts are the checks. nbval cannot inject parameters, so CPMKIT_PROFILE=ci makes
# `profile = None` mean ci. tests/test_site.py opens the course site in headless Chromium when
# it is installed and skips with a message otherwise. The formatter and the linter go first, so
# a style slip fails in seconds, not after the suite.
test: lint
	CPMKIT_PROFILE=ci $(PYTHON) -m pytest tests --nbval-lax --nbval-current-env notebooks

# ruff, configured in pyproject.toml (99 columns; notebooks and generated folders excluded)
lint:
	$(PYTHON) -m ruff format --check cpmkit tests benchmarks data
	$(PYTHON) -m ruff check cpmkit tests benchmarks data

test-lib:
	$(PYTHON) -m pytest tests

test-notebooks:
	CPMKIT_PROFILE=ci $(PYTHON) -m pytest --nbval-lax --nbval-current-env notebooks

lessons:
	$(PYTHON) -m cpmkit run --profile $(PROFILE); status=$$?; \
	$(PYTHON) -m cpmkit report --profile $(PROFILE) && exit $$status

report:
	$(PYTHON) -m cpmkit report --profile $(PROFILE)

# the course site from the executed copies in reproductions/runs/teach (nothing is executed),
# into build/site/_build/html/index.html
site:
	$(PYTHON) -m cpmkit site

benchmarks:
	@set -e; for script in benchmarks/*.py; do \
		[ -f "$$script" ] || continue; \
		echo "== $$script"; $(PYTHON) "$$script"; \
	done
