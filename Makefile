# Two commands on a fresh machine: `make workbook` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OPENCV_HEADLESS := $(shell grep '^opencv-python-headless==' requirements.lock)

.PHONY: workbook thesis book book-check lab notebooks nbval unit test bench lock clean-venv

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
# LANGUAGE=zh: reports/thesis-zh, figures/zh and tables/zh (the English ones are not touched).
thesis: $(STAMP)
	$(BIN)/python -m salt_lib workbook --profile thesis $(if $(DATA),--data $(DATA)) $(if $(LANGUAGE),--language $(LANGUAGE))

# The thesis as a PDF and one self-contained HTML page, book/<PROFILE>/thesis.pdf and .html
# (docs/book.md), from the executed chapters of PROFILE (thesis: reports/thesis with figures/ and
# tables/; quick: reports/quick after `make workbook`). LANGUAGE=zh: the Chinese book
# (thesis-zh.*); CHAPTERS=DIR: executed chapters in another folder. Offline, in seconds.
PROFILE ?= thesis
book: $(STAMP)
	$(BIN)/python -m salt_lib book --profile $(PROFILE) $(if $(LANGUAGE),--language $(LANGUAGE)) $(if $(CHAPTERS),--chapters $(CHAPTERS))

# After nbval has executed notebooks/ (writing reports/quick/figures and tables), the book tests
# again, now also on the quick book built from the committed quick chapters (about 30 s).
book-check: $(STAMP)
	$(BIN)/python -m pytest -q tests/test_book.py

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

# The unit tests (tests/; README.md gives how long they take on 2 cores).
unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/

# Everything CI runs: the unit tests, the seven notebooks under nbval, then the book of the
# quick run that nbval just made.
test: unit nbval book-check

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_foundation.py
	$(BIN)/python benchmarks/bench_synthetic.py

# Re-pin the whole stack from the current venv (after changing a pin in pyproject.toml).
lock: $(STAMP)
	{ head -2 requirements.lock; $(BIN)/pip freeze --exclude-editable; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean-venv:
	rm -rf $(VENV)
