# hostadmin: `make run` (embedded demo) and `make test` on a fresh machine with Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench mutants venv clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(PY) -m hostadmin.launcher

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(PY) -m benchmarks $(BENCH)

# Mutation testing of the money-critical modules (slow: minutes per module; not part of .ci/run).
$(VENV)/.mutants-installed: $(STAMP) .ci/requirements-mutants.txt
	$(PY) -m pip install --quiet -r .ci/requirements-mutants.txt
	touch $@

mutants: $(VENV)/.mutants-installed
	$(PY) .ci/mutants.py $(MUTANTS)

clean:
	rm -rf $(VENV) instance .pytest_cache .mutants mutants-report
