# One obvious command each; CI runs `make test` (see .ci/run).
PYTHON ?= python3
# Wheels for users are built with the full release profile; tests use a faster-to-build one.
export MATURIN_PEP517_ARGS ?= --profile dev-release

.PHONY: install dev test test-rust test-python lint fmt bench demo

install:
	$(PYTHON) -m pip install --quiet .

dev:
	$(PYTHON) -m pip install --quiet ".[dev]"

test-rust:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test -p bm25x-core

lint:
	$(PYTHON) -m ruff check python tests benches tools
	$(PYTHON) -m ruff format --check python tests benches tools
	$(PYTHON) -m mypy
	$(PYTHON) -m mypy.stubtest bm25x._native

test-python:
	$(PYTHON) -m pytest

# Installs the development dependencies, builds the extension, runs every check and test.
test: dev test-rust lint test-python

fmt:
	cargo fmt --all
	$(PYTHON) -m ruff format python tests benches tools
	$(PYTHON) -m ruff check --fix python tests benches tools

bench: dev
	$(PYTHON) benches/bench_encode.py
