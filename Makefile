# The two README commands: `make demo` (the main job end to end) and `make test`.
# Both install what is missing first (scripts/setup.sh is idempotent).
VENV := .venv
PY := $(VENV)/bin/python
export PLATFORMIO_CORE_DIR := $(CURDIR)/.pio-core

.PHONY: setup demo test bench bench-device fuzz clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(PY) -m edgehdc demo

test: setup
	$(VENV)/bin/python -m pytest

bench: setup
	$(VENV)/bin/python -m pytest benchmarks --benchmark-only

# Every MLPerf Tiny model + the demo model x qemu_m4/m7/m55 x portable/dsp/cmsis_nn through
# `edgehdc verify device` (benchmarks/results/device.md); BENCH_DEVICE_ARGS="--samples 20" etc.
bench-device: setup
	cd benchmarks && nice -n 5 ../$(PY) device.py $(BENCH_DEVICE_ARGS)

# 2,000 field-level mutants of each MLPerf Tiny model through `edgehdc verify tflm`
# (benchmarks/results/fuzz_verify_tflm.md); FUZZ_ARGS="--oracle tflite --mutants 500" for others.
fuzz: setup
	nice -n 10 $(PY) benchmarks/fuzz_verify.py $(FUZZ_ARGS)

clean:
	rm -rf build .pio
