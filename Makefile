# Everything a newcomer needs: `make run` (clean raw/ into clean/) and `make test`.
# Both create .venv on first use; nothing has to be installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DO_NOT_TRACK := 1
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_LOGGING_LEVEL := WARNING
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90

.PHONY: setup run test bench fuzz clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py src/cleancorpus/stages/_quality_c.c
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[flow,test,bench]'
	touch $(STAMP)

run: setup
	$(BIN)/cleancorpus clean raw --out clean

test: setup
	@# the browser test drives Debian's chromium (no browser download); install it if missing
	@test -x /usr/bin/chromium || { S=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$S apt-get update -qq && $$S env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
	  || echo "warning: could not install chromium; tests/browser will skip (and fail under CI=true)"
	$(BIN)/python -m pytest

# The quality benchmarks (minutes); the speed and scale ones are listed in bench/README.md.
bench: setup
	$(BIN)/python bench/neardup.py
	$(BIN)/python bench/spun.py
	$(BIN)/python bench/extraction.py

# The long fuzz run (issue 12): random, not derandomized; FUZZ_EXAMPLES=5000 make fuzz for more.
FUZZ_EXAMPLES ?= 500
fuzz: setup
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -p no:cacheprovider tests/test_fuzz.py tests/test_properties.py

clean-venv:
	rm -rf $(VENV)
