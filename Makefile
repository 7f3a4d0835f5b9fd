# Two commands for everyone: `make lab` to learn, `make test` to check.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: lab test execute lint bench install clean

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

## Re-execute every notebook in place so the committed outputs are fresh.
execute: install
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.timeout=600 --ExecutePreprocessor.kernel_name=python3 \
		--ExecutePreprocessor.store_widget_state=True notebooks/[0-9]*.ipynb

lint: install
	$(BIN)/ruff check .

## Speed and reliability of the DQN trainer against the seed's code.
bench: install
	$(BIN)/python benchmarks/bench_dqn.py speed
	$(BIN)/python benchmarks/bench_dqn.py solve --config recommended --seeds 10

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
