# Two commands on a fresh machine: `make workbook` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= data/synthetic
OPENCV_HEADLESS := $(shell grep '^opencv-python-headless==' requirements.lock)

.PHONY: workbook test bench lock clean-venv

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is needed, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	# imaug also pulls the GUI opencv-python, whose cv2 needs libGL.so.1 (absent on a bare Linux).
	# Both wheels write the same cv2/ folder: reinstalling the headless one last makes cv2 headless.
	$(BIN)/pip install -q --force-reinstall --no-deps $(OPENCV_HEADLESS)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

workbook: $(STAMP)
	$(BIN)/python -m salt_lib synth --out $(DATA) --if-missing
	$(BIN)/python -m salt_lib summary --data $(DATA)

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_foundation.py
	$(BIN)/python benchmarks/bench_synthetic.py

# Re-pin the whole stack from the current venv (after changing a pin in pyproject.toml).
lock: $(STAMP)
	{ head -2 requirements.lock; $(BIN)/pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean-venv:
	rm -rf $(VENV)
