# Two entry points do all the set-up themselves: `make demo` and `make test`.
# Both create .venv and install the package with its dev extra when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SITE_DIR ?= $(VENV)/site

.PHONY: demo demo-circles test lint types unit notebooks docs bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m pairwise.demo

demo-circles: $(STAMP)
	$(BIN)/python -m pairwise.demo --circles

test: lint types docs notebooks unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks notebooks

types: $(STAMP)
	$(BIN)/mypy

# pytest exits 5 when it collected nothing: that is a broken suite here, not a pass.
unit: $(STAMP)
	$(BIN)/python -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

notebooks: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest --nbmake -p no:cacheprovider -o addopts="" notebooks; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "no notebooks collected: failing"; exit 1; fi; exit $$rc

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir $(SITE_DIR)

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_pairs.py
	$(BIN)/python benchmarks/bench_circles.py

clean:
	rm -rf $(VENV) site .pytest_cache .mypy_cache .ruff_cache .hypothesis
