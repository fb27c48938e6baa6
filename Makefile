# Two commands on a fresh machine: `make workbook` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OPENCV_HEADLESS := $(shell grep '^opencv-python-headless==' requirements.lock)

.PHONY: workbook thesis lab notebooks nbval unit test bench lock clean-venv

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

# The seven notebooks on the embedded synthetic data (params/quick.yaml), executed copies and
# figures/tables in reports/quick/. DATA=DIR runs them on another data folder instead; LANGUAGE=zh
# labels the figures and table headers in Chinese.
workbook: $(STAMP)
	$(BIN)/python -m salt_lib workbook --profile quick $(if $(DATA),--data $(DATA)) $(if $(LANGUAGE),--language $(LANGUAGE))

# The thesis run (params/thesis.yaml): real data, figures/ and tables/; hours without trained models.
thesis: $(STAMP)
	$(BIN)/python -m salt_lib workbook --profile thesis $(if $(DATA),--data $(DATA)) $(if $(LANGUAGE),--language $(LANGUAGE))

# JupyterLab on notebooks/, from the venv, with the project's kernel (python3, installed above).
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks

# Re-render 04/05 from notebooks/templates/ and refresh the committed notebooks' outputs.
notebooks: $(STAMP)
	$(BIN)/python -m salt_lib workbook --render
	$(BIN)/python -m salt_lib workbook --in-place

# The notebooks as tests: cells marked NBVAL_CHECK_OUTPUT must reproduce their stored outputs.
nbval: $(STAMP)
	$(BIN)/python -m pytest -q --nbval-lax --nbval-sanitize-with notebooks/nbval_sanitize.cfg notebooks/

# The unit tests (tests/, about 2 minutes on 2 cores).
unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/

# Everything CI runs: the unit tests, then the seven notebooks under nbval (about 6 minutes).
test: unit nbval

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_foundation.py
	$(BIN)/python benchmarks/bench_synthetic.py

# Re-pin the whole stack from the current venv (after changing a pin in pyproject.toml).
lock: $(STAMP)
	{ head -2 requirements.lock; $(BIN)/pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean-venv:
	rm -rf $(VENV)
