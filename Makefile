# carbontwin — one command per job; each creates or reuses .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ONLY   ?=

.PHONY: demo test bench lint lock clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	@$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

demo: $(STAMP)
	$(BIN)/carbontwin demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check carbontwin tests benchmarks examples notebooks
	$(BIN)/lint-imports

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks $(ONLY)

# Re-resolve the pinned set (run on Python 3.11, then commit requirements.lock).
lock:
	rm -rf /tmp/carbontwin-lock && $(PYTHON) -m venv /tmp/carbontwin-lock
	/tmp/carbontwin-lock/bin/pip install -q -e '.[dev]'
	/tmp/carbontwin-lock/bin/pip freeze --exclude-editable | grep -v '^carbontwin' > requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
