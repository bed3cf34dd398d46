# The README's two commands: `make run` and `make test`.
VENV ?= .venv
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: run test check durations setup bootstrap bench clean-lab stt-model

# Test workers side by side (pytest-xdist), each with its own lab (hotline.lab.blocks), the longest tests
# handed out first and one at a time (tests/conftest.py orders them; a group keeps the wheel's tests together).
WORKERS ?= 5
CHECK_WORKERS ?= 3
PARALLEL = --dist loadgroup --no-loadscope-reorder

setup: bootstrap $(STAMP)

bootstrap:
	@bash scripts/bootstrap.sh

$(STAMP): pyproject.toml | bootstrap
	@echo "setup: python environment in $(VENV)"
	@test -x $(VENV)/bin/python || python3 -m venv $(VENV)
	@$(VENV)/bin/pip install -q --disable-pip-version-check -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

run: setup
	$(VENV)/bin/hotline run

test: setup
	$(VENV)/bin/ruff check .
	VENV=$(VENV) scripts/lint-layers
	$(VENV)/bin/hotline lab build
	$(VENV)/bin/pytest -q -n $(WORKERS) $(PARALLEL)

# The inner loop, between commits: lint, layers, the unit and integration tiers (no lab).
check: setup
	$(VENV)/bin/ruff check .
	VENV=$(VENV) scripts/lint-layers
	$(VENV)/bin/pytest -q -n $(CHECK_WORKERS) $(PARALLEL) tests/unit tests/integration

# What this checkout learned of each test's time, for a fresh clone to order by (tests/conftest.py).
durations:
	cp var/test-durations.json tests/durations.json

bench: setup
	$(VENV)/bin/hotline lab build
	$(VENV)/bin/python -m benchmarks

clean-lab:
	-$(VENV)/bin/hotline lab down

# The production speech-to-text model (Chinese), fetched once by a deployment; then set
# HOTLINE_STT_MODEL to the folder it prints. (alphacephei.com is not reachable from the build machines.)
STT_MODEL ?= vosk-model-small-cn-0.22
stt-model:
	@mkdir -p var/models
	@test -d var/models/$(STT_MODEL) || ( cd var/models && curl -fsSLO https://alphacephei.com/vosk/models/$(STT_MODEL).zip \
		&& python3 -m zipfile -e $(STT_MODEL).zip . && rm $(STT_MODEL).zip )
	@echo "HOTLINE_STT_MODEL=$(CURDIR)/var/models/$(STT_MODEL)"
