"""Generate python/bm25x/app/data/sample.jsonl, the small corpus `bm25x demo` searches.

The corpus is real public-domain text: the Constitution of the United States (preamble,
articles by section, amendments) and the Declaration of Independence (by paragraph), as the
Debian package `miscfiles` ships them in /usr/share/state (its debian/copyright: public domain;
Debian took the Constitution from the National Archives' transcript). Provenance and licence:
python/bm25x/app/data/README.md. One document per section (an amendment is one document, so the
recurring "Congress shall have power to enforce this article" sections do not become identical
documents); the signers' list and the amendments' ratification dates are left out.

    apt-get install miscfiles      # or: apt-get download miscfiles && dpkg -x miscfiles_*.deb x
    python tools/gen_sample_corpus.py [DIR]   # DIR has us-constitution(.gz), us-declaration(.gz)
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "python" / "bm25x" / "app" / "data" / "sample.jsonl"
DEFAULT_SOURCE = Path("/usr/share/state")

ROMAN = {"I": 1, "V": 5, "X": 10}
HEADING = re.compile(r"^(Preamble|Article [IVX]+|Amendment [IVX]+|Amendments|Section \d+)$")
DATES = re.compile(r"^(Passed by Congress|Ratified|The Ten Original Amendments|Note)")


def roman(numeral: str) -> int:
    values = [ROMAN[c] for c in numeral]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def read(source: Path, name: str) -> str:
    plain, packed = source / name, source / f"{name}.gz"
    if packed.is_file():
        return gzip.decompress(packed.read_bytes()).decode("utf-8")
    return plain.read_text(encoding="utf-8")


def paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def constitution(text: str) -> Iterator[dict[str, str]]:
    """One record per preamble / article section / article without sections / amendment."""
    part: tuple[str, str] | None = None  # (id, title) of the open document
    body: list[str] = []
    article: tuple[int, str] | None = None

    def flush() -> Iterator[dict[str, str]]:
        if part and body:
            yield {"_id": part[0], "title": part[1], "text": " ".join(body)}
        body.clear()

    for para in paragraphs(text)[1:]:  # [0] is the document's title
        heading = HEADING.match(para)
        if heading is None:
            if not DATES.match(para) and part is not None:
                body.append(para)
            continue
        word, _, num = para.partition(" ")
        if word == "Section" and article is None:
            continue  # a section of an amendment: the amendment stays one document
        yield from flush()
        if word == "Preamble":
            part, article = ("preamble", "Constitution, Preamble"), None
        elif word == "Article":
            article = (roman(num), num)
            part = (f"article-{article[0]}", f"Constitution, Article {num}")
        elif word == "Amendment":
            article = None
            part = (f"amendment-{roman(num)}", f"Constitution, Amendment {num}")
        elif word == "Amendments":
            part = article = None
        elif article is not None:  # a section of an article
            part = (
                f"article-{article[0]}-section-{num}",
                f"Constitution, Article {article[1]}, Section {num}",
            )
    yield from flush()


def declaration(text: str) -> Iterator[dict[str, str]]:
    """One record per paragraph of the Declaration's text (not the heading, not the signers)."""
    paras: list[str] = []
    for para in paragraphs(text):  # the closing resolution is typeset one clause a paragraph
        if para[:1].islower() and paras:
            paras[-1] += " " + para
        else:
            paras.append(para)
    start = next(i for i, p in enumerate(paras) if p.startswith("When in the Course"))
    end = next(i for i, p in enumerate(paras) if p.endswith("our sacred Honor."))
    for n, para in enumerate(paras[start : end + 1], 1):
        yield {"_id": f"declaration-{n:02d}", "title": "Declaration of Independence", "text": para}


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    records = [
        *constitution(read(source, "us-constitution")),
        *declaration(read(source, "us-declaration")),
    ]
    texts = [r["text"] for r in records]
    if len(set(texts)) != len(texts) or len({r["_id"] for r in records}) != len(records):
        raise SystemExit("duplicate texts or ids: the source changed shape; check the splitting")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(records)} documents to {OUT}")


if __name__ == "__main__":
    main()
