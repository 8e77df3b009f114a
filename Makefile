# The README's two commands: `make demo` and `make test`. Both build .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCENARIO ?= ../shared/scenarios/alex-morgan

.PHONY: demo test install lint clean browser

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the browser tests; the npm package analytics-next for the SDK test.
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium not installable here: browser tests will skip (fail under CI=true)"
	@test -d tests/e2e/js/node_modules/@segment/analytics-next || (cd tests/e2e/js && npm install --no-audit --no-fund --silent) || echo "npm install failed: analytics.js test will skip (fail under CI=true)"

demo: $(STAMP)
	$(BIN)/maison demo --scenario $(SCENARIO)

test: $(STAMP) browser
	$(BIN)/pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check src tests

clean:
	rm -rf $(VENV) .maison
