# Two commands for everyone: `make lab` to learn, `make test` to check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test test-numerics execute lint bench install clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

## Open JupyterLab on the lessons.
lab: install
	$(BIN)/jupyter lab notebooks/

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

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
