# The two commands of the README: `make run` and `make test`. Everything else is an implementation detail.
PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint install clean

install: $(VENV)/.synced

$(UV):
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked
	touch $@

# `DEMO_DATA=1 make run` also loads demo listings (techex seed-demo) before serving.
run: $(VENV)/.synced
	$(VENV)/bin/techex run

test: $(VENV)/.synced
	$(VENV)/bin/pytest

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check app search tests scripts migrations
	$(VENV)/bin/ruff format --check app search tests scripts migrations

clean:
	rm -rf $(VENV) .data
