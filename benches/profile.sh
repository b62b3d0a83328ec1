#!/usr/bin/env bash
# Instruction profile of bm25x's native encoding (callgrind; load-independent counts).
#   benches/profile.sh [pydocs|short] [threads] [passes]
# Prints total instructions of the collected region and the top functions.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kind="${1:-pydocs}" threads="${2:-1}" passes="${3:-1}"
py="$(python -c 'import sys; print(sys.executable)')"
out="$(mktemp -d)/callgrind.out"
valgrind --tool=callgrind --toggle-collect='*encode_many*' --callgrind-out-file="$out" \
  "$py" "$here/profile_encode.py" "$kind" "$threads" "$passes" 2>&1 | grep -E 'Collected'
callgrind_annotate "$out" 2>/dev/null | sed -n '/file:function/,$p' | head -30
