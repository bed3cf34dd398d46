# The README's two commands: `make run` and `make test`.
VENV ?= .venv
STAMP := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: run test setup bootstrap bench clean-lab stt-model

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
	$(VENV)/bin/pytest -q

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
