"""Hypothesis strategies for text, shared by the differential (oracle) test suites.

Texts are built from *pieces* joined by *separators*. A piece is a real word of some language
(so stemmers and stopword lists get exercised), a random run of one script's characters, a
hazard (zero-width characters, NUL, combining marks, ligatures, ...), or a very long token.
Nothing here depends on a particular flavour or oracle, so every suite can reuse it.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from hypothesis import strategies as st


def examples(n: int) -> int:
    """`n` hypothesis examples, times ``$BM25X_EXAMPLES_SCALE`` (default 1) for deeper runs."""
    return max(1, round(n * float(os.environ.get("BM25X_EXAMPLES_SCALE", "1"))))


REPO = Path(__file__).resolve().parents[2]
STOPWORD_DIR = REPO / "rust" / "core" / "data" / "stopwords"

# The 30 stopword languages and the 19 Snowball stemmer languages, canonical name -> ISO alias,
# as Qdrant spells them (case-sensitive).
STOPWORD_LANGUAGES: dict[str, str] = {
    "arabic": "ar",
    "azerbaijani": "az",
    "basque": "eu",
    "bengali": "bn",
    "catalan": "ca",
    "chinese": "zh",
    "danish": "da",
    "dutch": "nl",
    "english": "en",
    "finnish": "fi",
    "french": "fr",
    "german": "de",
    "greek": "el",
    "hebrew": "he",
    "hinglish": "hi-en",
    "hungarian": "hu",
    "indonesian": "id",
    "italian": "it",
    "japanese": "jp",
    "kazakh": "kk",
    "nepali": "ne",
    "norwegian": "no",
    "portuguese": "pt",
    "romanian": "ro",
    "russian": "ru",
    "slovene": "sl",
    "spanish": "es",
    "swedish": "sv",
    "tajik": "tg",
    "turkish": "tr",
}
STEMMER_LANGUAGES: dict[str, str] = {
    "arabic": "ar",
    "armenian": "hy",
    "danish": "da",
    "dutch": "nl",
    "english": "en",
    "finnish": "fi",
    "french": "fr",
    "german": "de",
    "greek": "el",
    "hungarian": "hu",
    "italian": "it",
    "norwegian": "no",
    "portuguese": "pt",
    "romanian": "ro",
    "russian": "ru",
    "spanish": "es",
    "swedish": "sv",
    "tamil": "ta",
    "turkish": "tr",
}
ALL_LANGUAGES: list[str] = sorted(set(STOPWORD_LANGUAGES) | set(STEMMER_LANGUAGES))


def read_stopwords(language: str) -> list[str]:
    """The words of bm25x's compiled stopword list for `language` (file order)."""
    path = STOPWORD_DIR / f"{language}.txt"
    return [w for w in path.read_text(encoding="utf-8").splitlines() if w]


# Inflected content words per language, chosen so that the stemmer has suffixes to strip.
WORDS: dict[str, list[str]] = {
    "english": "running cookies organization happily national Connections studies generously "
    "The Cats jumped quickly Recipe baking chocolate caresses ponies relational hopeful".split(),
    "french": "continuellement nationales mangeaient égoïsme Éléphants chanterions "
    "heureusement questions parlèrent".split(),
    "german": "Häuser aufeinanderfolgenden Kindern Straße größeren Mädchens laufend "
    "Bäckerei".split(),
    "spanish": "corriendo canciones rápidamente nacionales niños árboles pensábamos".split(),
    "portuguese": "corações nacionais rapidamente conversações informações".split(),
    "italian": "abbandonata velocemente nazionali città perché cantavano".split(),
    "dutch": "lichamelijke ontwikkelingen kinderen gebeurtenissen fietsen".split(),
    "danish": "løbende kvinderne bøgerne undersøgelser".split(),
    "norwegian": "kvinnene bøkene løpende undersøkelser".split(),
    "swedish": "flickorna husen springande möjligheter".split(),
    "finnish": "taloissa kirjoittamalla ystävällisyys juoksevat".split(),
    "hungarian": "házakban gyerekeknek szépségét tanulókkal".split(),
    "romanian": "frumoaselor copiilor națională înțelegere ţară".split(),
    "russian": "бегущими книгами Правительство Москвы прекрасная".split(),
    "greek": "ΟΔΟΣ καλημέρα ανθρώπων σοφός Σοφία ελληνικός λόγος".split(),
    "turkish": "kitaplarımızdan İstanbul ılık Iğdır güzelleştirmek".split(),
    "arabic": "الكتاب والمكتبات مُدَرِّسٌ كتـــاب يكتبون أبٌ".split(),
    "armenian": "գրքերը Հայաստանի երեխաներին".split(),
    "tamil": "தமிழ் மொழிகளில் படித்தார்கள் நாடுகள்".split(),
    "hebrew": "שָׁלוֹם הַסֵּפֶר ספרים".split(),
    "hindi": "नमस्ते दुनिया भारतीय किताबें".split(),
    "chinese": "今天是星期一 中华人民共和国 我们".split(),
    "japanese": "こんにちは 東京都 カタカナ".split(),
    "thai": "มาทำงานกันเถอะ ภาษาไทย".split(),
    "kazakh": "қазақстан балалар".split(),
    "indonesian": "makanan berlari kebudayaan".split(),
}

# Characters that pull the tokenizers and normalizers into their corners.
HAZARDS: list[str] = [
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # zero-width joiner
    "\u00ad",  # soft hyphen
    "\x00",  # NUL (Qdrant's query sentinel)
    "\u0307",  # combining dot above
    "\u0301",  # combining acute
    "\u0345",  # combining ypogegrammeni (Other_Alphabetic)
    "\u0640",  # Arabic tatweel
    "\u064e\u0651",  # fatha + shadda
    "\u05b8",  # Hebrew qamats
    "\u094d",  # Devanagari virama
    "\u0bcd",  # Tamil virama
    "İ",
    "ı",
    "ß",
    "ẞ",
    "ς",
    "Σ",
    "ﬁ",
    "ﬂ",
    "ﬀ",
    "Ⓐ",
    "ⓩ",
    "🄰",
    "½",
    "²",
    "¹",
    "Ⅻ",
    "٣",
    "۴",
    "१",
    "_",
    "'",
    "’",
    "-",
    "‐",
    "—",
    "\u00a0",  # no-break space
    "\u2028",
    "\u3000",
    "\u0085",
    "\t",
    "\n",
    "\r\n",
    "😀",
    "👩\u200d💻",
    "🇫🇷",
    "Å",  # angstrom sign
    "K",  # kelvin sign
    "Ω",  # ohm sign
    "ǅ",
    "ŉ",
    "ΐ",
    "Ꭰ",
    "ꭰ",
    "ꞵ",
    "\ufeff",
    "\U000e0041",  # tag character
]

_SCRIPT_RANGES: dict[str, list[tuple[int, int]]] = {
    "latin": [(0x41, 0x5A), (0x61, 0x7A), (0xC0, 0x24F), (0x1E00, 0x1EFF)],
    "cyrillic": [(0x400, 0x4FF)],
    "greek": [(0x370, 0x3FF), (0x1F00, 0x1FFF)],
    "arabic": [(0x600, 0x6FF)],
    "hebrew": [(0x591, 0x5F4)],
    "devanagari": [(0x900, 0x97F)],
    "tamil": [(0xB82, 0xBFA)],
    "armenian": [(0x531, 0x58A)],
    "cjk": [(0x4E00, 0x4FFF), (0x3040, 0x30FF), (0xAC00, 0xAC80)],
    "thai": [(0xE01, 0xE5B)],
    "digits": [(0x30, 0x39), (0x660, 0x669), (0x6F0, 0x6F9), (0x966, 0x96F), (0xB2, 0xB3)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E), (0x2010, 0x2027)],
    "symbols": [(0x2460, 0x24FF), (0x1F300, 0x1F64F), (0xFB00, 0xFB06), (0x2150, 0x218B)],
}
SCRIPTS: list[str] = sorted(_SCRIPT_RANGES)


def script_chars(script: str) -> st.SearchStrategy[str]:
    """One character of `script` (see `SCRIPTS`)."""
    return st.one_of([st.integers(lo, hi).map(chr) for lo, hi in _SCRIPT_RANGES[script]]).filter(
        lambda c: not 0xD800 <= ord(c) <= 0xDFFF
    )


def script_run(script: str, max_size: int = 12) -> st.SearchStrategy[str]:
    """A run of 1..max_size characters of one script, occasionally with a hazard inside."""
    chars = st.one_of(script_chars(script), script_chars(script), st.sampled_from(HAZARDS))
    return st.lists(chars, min_size=1, max_size=max_size).map("".join)


ALL_WORDS: list[str] = sorted({w for ws in WORDS.values() for w in ws})


@functools.cache
def _cached_stopwords(language: str) -> tuple[str, ...]:
    return tuple(read_stopwords(language))


@st.composite
def _stopword(draw: st.DrawFn, languages: tuple[str, ...] | None) -> str:
    known = tuple(lang for lang in languages or () if lang in STOPWORD_LANGUAGES)
    lang = draw(st.sampled_from(known or tuple(STOPWORD_LANGUAGES)))
    words = _cached_stopwords(lang)
    word = draw(st.sampled_from(words))
    # Upper- and title-case variants check that lowercasing happens before the stopword test.
    return draw(st.sampled_from([word, word.upper(), word.title()]))


def words(languages: tuple[str, ...] | None = None) -> st.SearchStrategy[str]:
    """A real word: a content word or a stopword of one of `languages` (default: any)."""
    content = (
        [w for lang in languages if lang in WORDS for w in WORDS[lang]] if languages else ALL_WORDS
    ) or ALL_WORDS
    return st.one_of(st.sampled_from(content), _stopword(languages))


def long_token() -> st.SearchStrategy[str]:
    """A token of 30-300 characters (around fastembed's 40 limit, and far beyond)."""
    return st.builds(
        lambda c, n, tail: c * n + tail,
        st.sampled_from(["a", "é", "ж", "字", "ab", "x\u0301"]),
        st.integers(30, 150),
        st.sampled_from(["", "s", "ing", "ations"]),
    )


SEPARATORS = st.sampled_from(
    [" ", " ", " ", "  ", "\n", "\t", ", ", ". ", "-", "'", "’", "_", "/", "\u00a0", "\u3000"]
)


def pieces(
    languages: tuple[str, ...] | None = None, scripts: tuple[str, ...] | None = None
) -> st.SearchStrategy[str]:
    """One piece of text: mostly real words, then script runs, hazards and long tokens."""
    chosen = scripts or tuple(SCRIPTS)
    return st.one_of(
        words(languages),
        words(languages),
        st.sampled_from(chosen).flatmap(script_run),
        st.sampled_from(HAZARDS),
        st.builds(lambda a, h, b: a + h + b, words(languages), st.sampled_from(HAZARDS), words()),
        long_token(),
    )


@st.composite
def texts(
    draw: st.DrawFn,
    languages: tuple[str, ...] | None = None,
    scripts: tuple[str, ...] | None = None,
    max_pieces: int = 24,
) -> str:
    """A text mixing real words (of `languages`, default all), runs of `scripts` (default all),
    hazards, punctuation and long tokens. Sometimes fully random Unicode instead."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=60))
    parts = draw(st.lists(pieces(languages, scripts), max_size=max_pieces))
    out = []
    for part in parts:
        out.append(part)
        out.append(draw(SEPARATORS))
    return "".join(out[:-1])


def text_lists(max_size: int = 8, **kwargs: object) -> st.SearchStrategy[list[str]]:
    """A list of texts (batches), including empty lists and empty strings."""
    return st.lists(st.one_of(texts(**kwargs), st.just("")), max_size=max_size)  # type: ignore[arg-type]
