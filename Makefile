# Two commands for everyone: `make lab` to learn, `make test` to check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The series' JupyterLab settings (no news prompt, no update check), read from the venv.
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json
# The book's tools (Sphinx, myst-nb, Playwright) go into the same venv, installed only by
# `make book` / `make test-book`, so that `make lab` stays lean.
BOOK_STAMP := $(VENV)/.installed-book

.PHONY: lab test test-numerics execute lint bench install install-book clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements.txt
	touch $(STAMP)

$(LAB_SETTINGS): jupyter/overrides.json $(STAMP)
	mkdir -p $(dir $@)
	cp jupyter/overrides.json $@

install: $(STAMP) $(LAB_SETTINGS)

## Open JupyterLab on the lessons. As root (Docker, cloud VMs) it adds --allow-root; with no
## display (a server, a container) it adds --no-browser: open the URL it prints, token included.
## A busy port is no problem: Jupyter takes the next free one and prints that URL.
## Extra options go in JUPYTER_ARGS, e.g. in a container with its port published:
##   make lab JUPYTER_ARGS="--ip=0.0.0.0 --port=8888"
JUPYTER_ARGS ?=
LAB_AUTO_ARGS = $(if $(filter 0,$(shell id -u)),--allow-root) \
	$(if $(filter Darwin,$(shell uname -s))$(DISPLAY)$(WAYLAND_DISPLAY),,--no-browser)
lab: install
	@echo "Starting JupyterLab on notebooks/: open the URL it prints below, token included"
	@echo "(http://127.0.0.1:<port>/lab?token=...). Ctrl-C twice stops it."
	$(BIN)/jupyter lab $(strip $(LAB_AUTO_ARGS) $(JUPYTER_ARGS)) notebooks/

## Lint, unit tests, then every notebook executed top to bottom by nbval.
test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

## The notebooks and the learning tests again, on a second floating-point path.
## MKL_CBWR=COMPATIBLE makes MKL pick other kernels, so every DQN run takes another trajectory,
## as it would on another learner's CPU: every claim must still hold. Another path:
## make test-numerics NUMERICS="ATEN_CPU_CAPABILITY=default"
NUMERICS ?= MKL_CBWR=COMPATIBLE
test-numerics: install
	env $(NUMERICS) $(BIN)/python -m pytest notebooks tests/test_learning.py

## Re-execute every notebook in place so the committed outputs are fresh.
execute: install
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name=python3 \
		--ExecutePreprocessor.store_widget_state=True notebooks/[0-9]*.ipynb

## The student edition: the lessons without solutions, in student/ (your work there is kept;
## make student FORCE=1 writes it anew). The committed notebooks are the instructor edition.
.PHONY: student test-student
student: install
	$(BIN)/python tools/editions.py student --out student $(if $(FORCE),--force)

## Run the student edition top to bottom with nbval: every exercise check must show its hint
## (the stubs are unwritten) and every other cell must run.
test-student: install
	rm -rf build/student
	$(BIN)/python tools/editions.py student --out build/student
	$(BIN)/python -m pytest -p tools.student_run build/student

lint: install
	$(BIN)/ruff check .

## Speed and reliability of the DQN trainer against the seed's code.
bench: install
	$(BIN)/python benchmarks/bench_dqn.py speed
	$(BIN)/python benchmarks/bench_dqn.py solve --config recommended --seeds 10

$(BOOK_STAMP): requirements-book.txt $(STAMP)
	$(BIN)/python -m pip install -r requirements.txt -r requirements-book.txt
	touch $(BOOK_STAMP)

install-book: $(BOOK_STAMP)

## The lessons as a static website in build/book/html, from their committed outputs (nothing is
## re-executed), readable offline: open build/book/html/index.html, or publish the folder on any
## static host. make book STUDENT=1 (or make book-student): the student edition, no solutions.
.PHONY: book book-student test-book
book: install-book
ifdef STUDENT
	rm -rf build/student
	$(BIN)/python tools/editions.py student --out build/student
	$(BIN)/python book/build.py --source build/student --out build/book
else
	$(BIN)/python book/build.py --source notebooks --out build/book
endif

book-student:
	$(MAKE) book STUDENT=1

## Build the book and read every lesson page in headless Chromium (Debian's chromium package,
## /usr/bin/chromium; CHROMIUM=/path/to/chrome for another): it renders, the math is typeset,
## every figure is there, and no request leaves localhost.
CHROMIUM ?= $(shell command -v chromium || command -v chromium-browser || command -v google-chrome)
test-book: install-book
	@test -n "$(CHROMIUM)" || { echo "test-book needs Chromium: apt-get install chromium"; exit 1; }
	CHROMIUM="$(CHROMIUM)" BOOK_TEST_REQUIRED=1 $(BIN)/python -m pytest -rs tests/test_book.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache build/book
