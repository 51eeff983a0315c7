# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench demo kiosk screenshots clean need-chromium

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,serve]'
	touch $(STAMP)

run: $(STAMP)  ## the dashboard (on the embedded simulator when there is no config)
	$(BIN)/runwatch

# Three workers on two cores: a third of the suite's tests wait on a subprocess, a pty or a
# browser, and a third worker keeps both cores busy meanwhile (1,664 tests: 245-278 s
# against 311-364 s with two, quiet machine).
test: $(STAMP) lint need-chromium  ## lint, layer contracts and the whole suite, on both cores
	$(BIN)/pytest -q -p no:cacheprovider -n 3

need-chromium:  ## the browser kiosk test needs Debian's chromium: installed here when we can
	@scripts/need-chromium

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/lint-imports --config pyproject.toml
	$(BIN)/mypy src

bench: $(STAMP)  ## performance figures, one table (not part of `make test`; BENCH_ARGS=--quick)
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

screenshots: $(STAMP)  ## the README's SVGs, from a frozen simulator
	$(BIN)/python docs/make_screenshots.py

kiosk: $(STAMP)
	$(BIN)/runwatch demo --kiosk

clean:
	rm -rf $(VENV) .pytest_cache build dist
