"""The Qdrant server's option rules, as the tests state them (docs/exactness-server-options.md),
independently of bm25x's server mode: which language a ``language`` spelling selects, the
spellings to sweep, and a hypothesis strategy of options the server accepts, each drawn with
the strict options that mean the same.

The rules were read from Qdrant's source at v1.18.3 and v1.19.0 and checked against a build of
the server's own option types (serde 1.0.229, serde_json 1.0.151) on 140,000 random option
sets.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from support.strategies import STEMMER_LANGUAGES, STOPWORD_LANGUAGES

NAMES = sorted(set(STOPWORD_LANGUAGES) | set(STEMMER_LANGUAGES))
ALIASES = sorted(set(STOPWORD_LANGUAGES.values()) | set(STEMMER_LANGUAGES.values()))


def server_language(spelling: str) -> str:
    """The ``language`` a server reads ``spelling`` as: the spelling is read as the body of a
    JSON string (escapes decoded), then matched case-sensitively against each table's names
    and ISO codes; what neither table knows is ``"none"`` (no stopwords, no stemmer)."""
    try:
        decoded = json.loads(f'"{spelling}"')
    except ValueError:
        return "none"
    for table in (STOPWORD_LANGUAGES, STEMMER_LANGUAGES):
        if decoded in table or decoded in table.values():
            return str(decoded)
    return "none"


# Every spelling the rules name: each name and ISO code, as written and capitalised, "none",
# unknown names, near misses, and JSON escapes (which the server decodes).
LANGUAGE_SPELLINGS: list[str] = sorted(
    {
        *NAMES,
        *ALIASES,
        *(n.title() for n in NAMES),
        *(n.upper() for n in NAMES),
        *(a.upper() for a in ALIASES),
        "none",
        "None",
        "NONE",
        "klingon",
        "",
        " english",
        "english ",
        "en-US",
        "en_us",
        "hi_en",
        "deutsch",
        "germ\\u0061n",
        "\\u0047erman",
        'de"',
        "\\\\",
    }
)

# Keys a server ignores (typos, other casings, fastembed's options).
UNKNOWN_KEYS = ["avglen", "K", "Language", "stop_words", "token_max_length", "disable_stemmer"]
# Keys no stopword language is spelled as, for unknown keys inside a stopwords mapping.
_NOT_LANGUAGES = ["extra", "English", "Languages", "words"]

Drawn = tuple[Any, Any]
"""(what is sent, the strict option that means the same)."""

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(["x", "de", "none"]),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=4,
)


def _unit(names: list[str]) -> st.SearchStrategy[Drawn]:
    """An enum value: its name, or serde's ``{name: null}``."""
    return st.sampled_from(names).flatmap(lambda n: st.sampled_from([(n, n), ({n: None}, n)]))


def _stopwords() -> st.SearchStrategy[Drawn]:
    language = _unit([*STOPWORD_LANGUAGES, *STOPWORD_LANGUAGES.values()])
    languages = st.none().map(lambda _: (None, [])) | st.lists(language, max_size=3).map(
        lambda items: ([raw for raw, _ in items], [name for _, name in items])
    )
    custom = st.none().map(lambda _: (None, [])) | st.lists(
        st.sampled_from(["the", "The", "cookies", "und"]), max_size=3
    ).map(lambda words: (words, words))

    @st.composite
    def as_set(draw: st.DrawFn) -> Drawn:
        fields: dict[str, Any] = {}
        raw: dict[str, Any] = {}
        for key, strategy in (("languages", languages), ("custom", custom)):
            if draw(st.booleans()):
                raw[key], fields[key] = draw(strategy)
        for key in draw(st.lists(st.sampled_from(_NOT_LANGUAGES), max_size=2, unique=True)):
            raw[key] = draw(_json)  # ignored
        return raw, fields

    @st.composite
    def as_list(draw: st.DrawFn) -> Drawn:
        (lr, lc), (cr, cc) = draw(languages), draw(custom)
        n = draw(st.integers(0, 2))
        return [lr, cr][:n], {"languages": lc if n > 0 else [], "custom": cc if n > 1 else []}

    return language | as_set() | as_list()


def _stemmer() -> st.SearchStrategy[Drawn]:
    language = _unit([*STEMMER_LANGUAGES, *STEMMER_LANGUAGES.values()])

    @st.composite
    def snowball(draw: st.DrawFn) -> Drawn:
        (kind, _), (lang, name) = draw(_unit(["snowball"])), draw(language)
        meaning = {"type": "snowball", "language": name}
        if draw(st.booleans()):
            return [kind, lang], meaning
        raw = {"type": kind, "language": lang}
        for key in draw(st.lists(st.sampled_from(["extra", "Type", "lang"]), max_size=2)):
            raw[key] = draw(_json)  # ignored
        return raw, meaning

    @st.composite
    def disabled(draw: st.DrawFn) -> Drawn:
        kind, _ = draw(_unit(["none"]))
        if draw(st.booleans()):
            return [kind], {"type": "none"}
        raw = {"type": kind}
        for key in draw(st.lists(st.sampled_from(["language", "extra"]), max_size=2)):
            raw[key] = draw(_json)  # ignored
        return raw, {"type": "none"}

    return snowball() | disabled()


@st.composite
def accepted_options(draw: st.DrawFn) -> Drawn:
    """Options a Qdrant server (v1.19.0) accepts, and strict bm25x options meaning the same.

    Left out: what bm25x refuses on purpose although a server accepts it (``k`` above 1e38,
    ``k = 0`` with a tiny ``avg_len``, ``min_token_len > max_token_len``: weights that are
    infinite or NaN, or vectors that are always empty)."""
    raw: dict[str, Any] = {}
    meaning: dict[str, Any] = {}

    def put(key: str, pair: Drawn) -> None:
        raw[key], meaning[key] = pair

    numbers = {
        "k": st.integers(0, 5) | st.floats(0, 5),
        "b": st.integers(0, 1) | st.floats(0, 1),
        "avg_len": st.integers(1, 500) | st.floats(0.5, 500),
    }
    for key, strategy in numbers.items():
        if draw(st.booleans()):
            put(key, draw(strategy.map(lambda x: (x, x))))
    if draw(st.booleans()):
        put("tokenizer", draw(_unit(["word", "whitespace", "prefix", "multilingual"])))
    if draw(st.booleans()):
        spelling = draw(st.none() | st.sampled_from(LANGUAGE_SPELLINGS))
        put("language", (spelling, None if spelling is None else server_language(spelling)))
    for key in ("lowercase", "ascii_folding"):
        if draw(st.booleans()):
            value = draw(st.none() | st.booleans())
            put(key, (value, value))
    if draw(st.booleans()):
        put("stopwords", draw(st.none().map(lambda _: (None, None)) | _stopwords()))
    if draw(st.booleans()):
        put("stemmer", draw(st.none().map(lambda _: (None, None)) | _stemmer()))
    low = draw(st.none() | st.integers(0, 6))
    high = draw(st.none() | st.integers(low or 0, 30))
    if low is not None or draw(st.booleans()):
        put("min_token_len", (low, low))
    if high is not None or draw(st.booleans()):
        put("max_token_len", (high, high))
    for key in draw(st.lists(st.sampled_from(UNKNOWN_KEYS), max_size=2, unique=True)):
        raw[key] = draw(_json)  # ignored by the server
    return raw, meaning
