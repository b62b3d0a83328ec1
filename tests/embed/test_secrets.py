"""Key redaction (``bm25x._secrets``): any run of 8 or more characters of a remembered key is
masked wherever it stands in a text; what a key costs is linear in its length; keys over the
length bound are refused with a typed error before anything of them is kept; the registry is
bounded in keys and in bytes, and pinned keys outlive any flood of others."""

from __future__ import annotations

import secrets
import string
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from support.strategies import examples

import bm25x
from bm25x import _redact, _secrets
from bm25x._secrets import MAX_KEY_BYTES, MIN_FRAGMENT, redact, remember_secret


@pytest.fixture
def fresh() -> Iterator[_redact._Registry]:
    """An empty registry of the default bounds for the test (the process's is put back)."""
    saved = _redact._REGISTRY
    _redact._REGISTRY = _redact._Registry(_secrets.MAX_SECRETS, _secrets.MAX_SECRET_BYTES)
    try:
        yield _redact._REGISTRY
    finally:
        _redact._REGISTRY = saved


def windows(key: str) -> list[str]:
    return [key[i : i + MIN_FRAGMENT] for i in range(len(key) - MIN_FRAGMENT + 1)]


# Keys: any characters but the mask's '*' and the cut's '.', which redact() itself writes.
KEY_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="*.")
keys = st.text(KEY_CHARS, min_size=MIN_FRAGMENT, max_size=120)
filler = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@st.composite
def texts_with_pieces(draw: st.DrawFn) -> tuple[list[str], str]:
    """1 to 3 keys, and a text of random characters with random substrings (at least
    MIN_FRAGMENT characters long) of them embedded anywhere."""
    chosen = draw(st.lists(keys, min_size=1, max_size=3, unique=True))
    parts = [draw(filler)]
    for _ in range(draw(st.integers(1, 6))):
        key = draw(st.sampled_from(chosen))
        start = draw(st.integers(0, len(key) - MIN_FRAGMENT))
        end = draw(st.integers(start + MIN_FRAGMENT, len(key)))
        parts += [key[start:end], draw(filler)]
    return chosen, "".join(parts)


@settings(max_examples=examples(300))
@given(case=texts_with_pieces(), limit=st.none() | st.integers(0, 300))
def test_no_window_of_a_key_survives_redaction(
    case: tuple[list[str], str], limit: int | None
) -> None:
    chosen, text = case
    saved = _redact._REGISTRY
    _redact._REGISTRY = _redact._Registry(_secrets.MAX_SECRETS, _secrets.MAX_SECRET_BYTES)
    try:
        for key in chosen:
            remember_secret(key)
        out = redact(text, limit)
    finally:
        _redact._REGISTRY = saved
    for key in chosen:
        assert not [w for w in windows(key) if w in out], (key, text, out)


@st.composite
def texts_without_pieces(draw: st.DrawFn) -> tuple[str, str]:
    """A key, and a text of random characters and pieces of the key too short to mask (under
    MIN_FRAGMENT characters): near misses, which must stay as they are."""
    key = draw(keys)
    parts = [draw(filler)]
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, len(key) - 1))
        end = draw(st.integers(start, min(len(key), start + MIN_FRAGMENT - 1)))
        parts += [key[start:end], draw(filler)]
    text = "".join(parts)
    assume(not any(w in text for w in windows(key)))
    return key, text


@settings(max_examples=examples(300))
@given(case=texts_without_pieces(), limit=st.none() | st.integers(0, 300))
def test_text_without_a_piece_of_a_key_is_unchanged(
    case: tuple[str, str], limit: int | None
) -> None:
    key, text = case
    saved = _redact._REGISTRY
    _redact._REGISTRY = _redact._Registry(_secrets.MAX_SECRETS, _secrets.MAX_SECRET_BYTES)
    try:
        remember_secret(key)
        out = redact(text, limit)
    finally:
        _redact._REGISTRY = saved
    expected = text if limit is None or len(text) <= limit else text[:limit] + "..."
    assert out == expected


@pytest.mark.parametrize(
    "shape",
    [
        "{head}…{tail}",
        "...{tail}",
        "{head}...",
        "{head}****{tail}",
        "{head}[...]{tail}",
        "key={head}{tail}!",
        "quoted '{middle}' here",
        "glued{middle}glued",
    ],
)
def test_pieces_of_a_cut_key_are_masked_wherever_they_stand(
    fresh: _redact._Registry, shape: str
) -> None:
    key = remember_secret("sk-OPERATOR-abcdefghijklmnopqrstuvwxyz0123456789")
    text = shape.format(head=key[:12], tail=key[-12:], middle=key[15:30])
    out = redact(f"provider said: {text}")
    assert not [w for w in windows(key) if w in out], out
    assert out.startswith("provider said: ") and "***" in out


def test_redaction_costs_memory_linear_in_the_key(fresh: _redact._Registry) -> None:
    key = secrets.token_urlsafe(MAX_KEY_BYTES)[:MAX_KEY_BYTES]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        remember_secret(key)
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # One window entry per character (about 85 bytes each); every prefix and suffix of a
    # 4 KiB key would be about 16 MiB.
    assert len(fresh.windows) <= len(key)
    assert kept < 200 * len(key), kept
    assert redact(f"echo {key[100:300]} back") == "echo *** back"


def test_a_key_over_the_bound_is_refused_before_anything_is_kept(
    fresh: _redact._Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_key = "sk-" + "x" * MAX_KEY_BYTES
    with pytest.raises(bm25x.KeyTooLongError, match=r"header 'x-api-key' is 4,099 bytes") as info:
        remember_secret(long_key, where="header 'x-api-key'")
    assert long_key not in str(info.value) and not fresh.keys and not fresh.windows
    # exactly the bound is accepted; the bound counts UTF-8 bytes, not characters
    remember_secret("k" * MAX_KEY_BYTES)
    with pytest.raises(bm25x.KeyTooLongError):
        remember_secret("é" * (MAX_KEY_BYTES // 2 + 1))
    fresh.clear()
    # through bm25x.embed: an option, a header, a provider's api_key, the environment
    with pytest.raises(bm25x.KeyTooLongError, match="item 0: option 'openai-api-key'") as err:
        bm25x.embed("a", model="openai/x", options={"openai-api-key": long_key})
    assert err.value.items == [0] and isinstance(err.value, bm25x.BadInputError)
    with pytest.raises(bm25x.KeyTooLongError, match="header 'openai-api-key'"):
        bm25x.embed("a", model="openai/x", headers={"openai-api-key": long_key})
    from bm25x.providers.openai import OpenAIProvider

    with pytest.raises(bm25x.KeyTooLongError, match=r"OpenAIProvider\(api_key=...\)"):
        OpenAIProvider(api_key=long_key)
    assert not fresh.keys and not fresh.windows
    monkeypatch.setenv("OPENAI_API_KEY", long_key)
    with pytest.raises(bm25x.KeyTooLongError, match="environment variable OPENAI_API_KEY") as env:
        bm25x.embed("a", model="openai/x")
    assert env.value.provider == "openai" and env.value.model == "x"
    assert long_key not in str(env.value) and not fresh.keys and not fresh.windows


def test_registry_is_bounded_in_bytes(fresh: _redact._Registry) -> None:
    newest = "sk-newest-" + "n" * 100
    for i in range(_secrets.MAX_SECRET_BYTES // MAX_KEY_BYTES + 20):
        remember_secret(f"{i:08d}" + secrets.token_hex(MAX_KEY_BYTES // 2 - 4))
    remember_secret(newest)
    assert fresh.size <= _secrets.MAX_SECRET_BYTES
    assert sum(map(len, fresh.keys)) == fresh.size
    assert len(fresh.windows) <= fresh.size
    assert redact(f"echo {newest[:20]}") == "echo ***"
    assert not any(k.startswith("00000000") for k in fresh.keys)


def test_pinned_keys_outlive_a_flood_of_others(fresh: _redact._Registry) -> None:
    operator = remember_secret("sk-operator-own-key-0123456789", pinned=True)
    for i in range(_secrets.MAX_SECRETS + 10):
        remember_secret(f"sk-caller-{i:06d}-" + string.ascii_letters)
    assert len(fresh.keys) == _secrets.MAX_SECRETS
    assert redact(f"bad key {operator[:14]}…{operator[-10:]}") == "bad key ***…***"
    remember_secret(operator)  # seen again unpinned: stays pinned
    assert operator in fresh.pinned and operator not in fresh.keys


def test_short_keys_are_masked_whole_and_forgotten_with_the_rest(
    fresh: _redact._Registry,
) -> None:
    remember_secret("abc")  # under 4 characters: not a key worth masking
    remember_secret("tok5x")
    assert redact("tok5x and abc") == "*** and abc"
    fresh.clear()
    assert redact("tok5x") == "tok5x"
