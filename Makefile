# carbontwin — one command per job; each creates or reuses .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
ONLY   ?=

.PHONY: demo test bench lint lock clean chromium mosquitto

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.lock
	@$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

# The demo: a year of history (once), then the live park until Ctrl-C. DEMO_ARGS passes
# options, e.g. make demo DEMO_ARGS="--speed 120 --seconds 300".
DEMO_ARGS ?=
demo: $(STAMP) mosquitto
	$(BIN)/carbontwin demo --live $(DEMO_ARGS)

# The live demo's MQTT path uses Mosquitto: install it with apt where it is missing and we
# can; without it the demo warns and hands the readings straight to the pipeline.
mosquitto:
	@if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing mosquitto (apt) for the live demo's MQTT path"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    { apt-get update -qq && apt-get install -y -qq mosquitto >/dev/null; } \
	      || echo "warning: apt-get could not install mosquitto" >&2; \
	  else \
	    echo "warning: mosquitto is not installed and apt-get as root is not available" >&2; \
	  fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check carbontwin tests benchmarks examples notebooks
	$(BIN)/lint-imports

# The dashboard's browser tests drive Debian's chromium (Playwright downloads none): install
# it with apt where it is missing and we can, else warn; those tests then fail, naming the fix.
chromium:
	@if [ -z "$$CARBONTWIN_CHROMIUM" ] && ! command -v chromium >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    echo "installing chromium (apt) for the browser tests in tests/dashboard"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    { apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; } \
	      || echo "warning: apt-get could not install chromium; tests/dashboard will fail" >&2; \
	  else \
	    echo "warning: no chromium on PATH and no apt-get as root to install it:" \
	      "tests/dashboard will fail; install chromium or set CARBONTWIN_CHROMIUM" >&2; \
	  fi; \
	fi

test: $(STAMP) lint chromium
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
