"""Put vaporetto's bccwj-suw_c1.0 model into rust/core/data/vaporetto/ for the sdist.

`make sdist` runs this first, so the source distribution carries the model and builds without
network (rust/core/build.rs prefers that file). The model is the exact file Qdrant ships in the
crates.io crate qdrant-edge 0.9.0; it is taken from cargo's download cache (fetched there with
`cargo info`, which downloads and checks a crate's archive without building it) and checked
against the SHA-256 recorded in rust/core/data/vaporetto/README.md. The file is not committed to
git (.gitignore): see that README for why.

    python tools/vendor_vaporetto_model.py
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / "rust" / "core" / "data" / "vaporetto" / "bccwj-suw_c1.0.model"
CRATE = "qdrant-edge-0.9.0.crate"
MEMBER = "qdrant-edge-0.9.0/tokenizer/bccwj-suw_c1.0.model"
SHA256 = "b6a9cae277d92253bb2d78419fbbdd1eeb517a3c55156ffb59e40d3a3dba2c55"


def cached_crate() -> Path | None:
    home = Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")
    return next(iter(sorted((home / "registry" / "cache").glob(f"*/{CRATE}"))), None)


def model_bytes() -> bytes:
    crate = cached_crate()
    if crate is None:
        cargo = os.environ.get("CARGO", "cargo")
        subprocess.run(
            [cargo, "info", "--quiet", "qdrant-edge@0.9.0"], check=True, stdout=subprocess.DEVNULL
        )
        crate = cached_crate()
    if crate is None:
        sys.exit(f"{CRATE} is not in cargo's cache after `cargo info qdrant-edge@0.9.0`")
    with tarfile.open(crate, "r:gz") as archive:
        member = archive.extractfile(MEMBER)
        if member is None:
            sys.exit(f"{crate} has no {MEMBER}")
        return member.read()


def main() -> None:
    if DEST.is_file() and hashlib.sha256(DEST.read_bytes()).hexdigest() == SHA256:
        print(f"{DEST.relative_to(ROOT)} is in place")
        return
    data = model_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        sys.exit(f"the model's SHA-256 is {digest}, expected {SHA256}")
    DEST.parent.mkdir(parents=True, exist_ok=True)
    DEST.write_bytes(data)
    print(f"wrote {DEST.relative_to(ROOT)} ({len(data):,} bytes, sha256 {digest[:12]}…)")


if __name__ == "__main__":
    main()
