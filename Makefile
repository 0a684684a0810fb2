# The two README commands: `make demo` (the main job end to end) and `make test`.
# Both install what is missing first (scripts/setup.sh is idempotent).
VENV := .venv
PY := $(VENV)/bin/python
export PLATFORMIO_CORE_DIR := $(CURDIR)/.pio-core

.PHONY: setup demo test bench clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(PY) -m edgehdc demo

test: setup
	$(VENV)/bin/python -m pytest

bench: setup
	$(VENV)/bin/python -m pytest benchmarks --benchmark-only

clean:
	rm -rf build .pio
