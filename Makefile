# The README's two commands: `make run` and `make test`.
VENV ?= .venv
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: run test setup bootstrap bench clean-lab

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
	$(VENV)/bin/lint-imports
	$(VENV)/bin/hotline lab build
	$(VENV)/bin/pytest -q

bench: setup
	$(VENV)/bin/hotline lab build
	$(VENV)/bin/python -m benchmarks

clean-lab:
	-$(VENV)/bin/hotline lab down

