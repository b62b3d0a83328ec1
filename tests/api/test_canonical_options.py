"""One options canonicaliser (``bm25x._options``), used by every path that reads options: equal
options give equal keys whatever their spelling, and each path reads them by the same rule."""

from __future__ import annotations

import enum
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from qdrant_client import models

import bm25x
from bm25x._embed.items import options_dict
from bm25x._options import KEY_SUFFIX, MAX_DEPTH, is_key_option, options_key, plain
from bm25x._server_options import translate
from bm25x.providers import bm25 as bm25_provider
from bm25x.qdrant import resolve_bm25

# -- equal options, equal keys --------------------------------------------------------------

LANGUAGES = [models.Language.ENGLISH, models.Language.GERMAN, models.Language.FRENCH]
TOKENIZERS = list(models.TokenizerType)
NUMPY_INTS = (np.int8, np.int16, np.int32, np.int64, np.uint16)
NUMPY_FLOATS = (np.float64,)  # float32/16 round a float to another value


def spellings(value: Any) -> st.SearchStrategy[Any]:
    """Ways of writing ``value`` (plain JSON) that mean the same option."""
    if isinstance(value, bool):
        return st.sampled_from([value, np.bool_(value)])
    if isinstance(value, int):
        return st.sampled_from([value, *(t(value) for t in NUMPY_INTS)])
    if isinstance(value, float):
        return st.sampled_from([value, *(t(value) for t in NUMPY_FLOATS)])
    if isinstance(value, str):
        found = [e for e in (*LANGUAGES, *TOKENIZERS) if e.value == value]
        return st.sampled_from([value, *found])
    if isinstance(value, list):
        return st.tuples(*(spellings(v) for v in value)).flatmap(
            lambda items: st.sampled_from([list(items), tuple(items)])
        )
    assert isinstance(value, dict)
    return st.fixed_dictionaries({k: spellings(v) for k, v in value.items()}).flatmap(
        lambda d: st.permutations(list(d.items())).map(dict)
    )


small_ints = st.integers(min_value=0, max_value=100)
finite = st.floats(min_value=0, max_value=1e6, allow_nan=False)
plain_options = st.fixed_dictionaries(
    {},
    optional={
        "k": finite,
        "b": finite,
        "avg_len": finite,
        "min_token_len": small_ints,
        "lowercase": st.booleans(),
        "tokenizer": st.sampled_from([t.value for t in TOKENIZERS]),
        "language": st.sampled_from([lang.value for lang in LANGUAGES]),
        "stopwords": st.fixed_dictionaries(
            {},
            optional={
                "languages": st.lists(st.sampled_from([lang.value for lang in LANGUAGES])),
                "custom": st.lists(st.text(max_size=8), max_size=4),
            },
        ),
        "extra": st.lists(st.one_of(small_ints, st.text(max_size=4)), max_size=3),
    },
)


@given(plain_options.flatmap(lambda o: st.tuples(st.just(o), spellings(o))))
def test_equal_options_give_equal_keys(pair: tuple[dict[str, Any], Any]) -> None:
    canonical, spelled = pair
    assert plain(spelled) == canonical
    assert options_key(spelled) == options_key(canonical)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "k": finite,
            "language": st.sampled_from(LANGUAGES),
            "tokenizer": st.sampled_from(TOKENIZERS),
            "stopwords": st.builds(
                models.StopwordsSet, languages=st.lists(st.sampled_from(LANGUAGES), max_size=2)
            ),
        },
    )
)
def test_a_qdrant_client_model_keys_as_its_dict(fields: dict[str, Any]) -> None:
    config = models.Bm25Config(**fields)
    as_dict = config.model_dump(exclude_none=True)  # enums and nested models as they are
    assert plain(config) == config.model_dump(mode="json", exclude_none=True)
    assert options_key(config) == options_key(as_dict)
    assert options_key(config) == options_key(dict(reversed(list(as_dict.items()))))


def test_different_options_give_different_keys() -> None:
    assert options_key({"k": 1}) != options_key({"k": 2})
    assert options_key({"k": 1}) != options_key({"k": "1"})
    assert options_key(None) == options_key({}) and len(options_key({})) == 32


def test_sets_are_sorted_and_enums_are_their_values() -> None:
    class Colour(enum.Enum):
        RED = "red"

    assert plain({"words": {"b", "a", "c"}}) == {"words": ["a", "b", "c"]}
    assert plain({"c": Colour.RED, "a": np.arange(3)}) == {"c": "red", "a": [0, 1, 2]}


@pytest.mark.parametrize(
    ("value", "error", "message"),
    [
        ({"k": object()}, TypeError, "option 'options.k': a object cannot be saved as JSON"),
        ({"k": float("inf")}, bm25x.OptionError, "option 'options.k' must be a finite number"),
        ({"stopwords": {1: "x"}}, TypeError, "option 'options.stopwords': keys must be strings"),
        ({"s": {"custom": [1, object()]}}, TypeError, r"option 'options.s.custom\[1\]'"),
    ],
)
def test_what_has_no_json_form_is_refused_naming_the_option(
    value: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        plain(value)


def test_nesting_is_bounded() -> None:
    deep: Any = 0
    for _ in range(MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(TypeError, match=f"nested more than {MAX_DEPTH} levels"):
        plain(deep, "custom")
    assert plain(deep[0], "custom") == deep[0]


def test_key_options_are_named_by_one_suffix() -> None:
    assert KEY_SUFFIX == "-api-key"
    assert is_key_option("openai-api-key") and is_key_option("Cohere-API-Key")
    assert not is_key_option("api-key-file") and not is_key_option("language")


# -- every path reads options by the one rule (the behaviour this changed) -------------------


def test_embed_reads_numpy_and_enum_options_as_plain_json() -> None:
    # Before: only a top-level model was dumped; nested numpy scalars and enums reached the
    # provider as they were (and no provider can send a numpy scalar as JSON).
    parsed = options_dict(
        {"dimensions": np.int64(256), "tokenizer": models.TokenizerType.WORD}, "item 0", 0
    )
    assert parsed == {"dimensions": 256, "tokenizer": "word"}
    assert type(parsed["dimensions"]) is int


def test_embed_refuses_options_with_no_json_form_naming_the_item() -> None:
    # Before: passed on to the provider, which failed its whole batch.
    with pytest.raises(bm25x.errors.BadInputError, match="item 3: option 'k': a object") as err:
        options_dict({"k": object()}, "item 3", 3)
    assert err.value.items == [3]


def test_embed_dumps_a_bm25_config_like_every_other_path() -> None:
    # Before: ``exclude_unset`` here alone; now the model's defaults are written out, as the
    # other paths (and the encoder, whose defaults they are) read them.
    config = models.Bm25Config(language="german")
    assert options_dict(config, "item 0", 0) == plain(config)
    assert options_dict(config, "item 0", 0)["language"] == "german"


def test_the_encoder_cache_and_the_client_group_numpy_options_with_python_ones() -> None:
    # Before: the cache keyed by ``json.dumps(default=repr)``, so np.int64(2) and 2 built two
    # encoders (and the client's grouping, by ``str``, two batches); now one.
    first = bm25_provider.shared_encoder("qdrant", {"min_token_len": 2, "language": "german"})
    again = bm25_provider.shared_encoder(
        "qdrant", {"language": models.Language.GERMAN, "min_token_len": np.int64(2)}
    )
    assert again is first
    docs = [
        models.Document(text="Baking cookies", model="Qdrant/bm25", options={"k": 1.5}),
        models.Document(text="Baking bread", model="Qdrant/bm25", options={"k": np.float64(1.5)}),
    ]
    assert resolve_bm25(docs, False) == [bm25x.Bm25(k=1.5).encode(d.text) for d in docs]


def test_server_options_read_sets_and_models_by_the_one_rule() -> None:
    t = translate({"stopwords": {"custom": {"b", "a"}}, "language": models.Language.GERMAN})
    assert t.options["stopwords"] == {"custom": ["a", "b"]}
    assert t.options["language"] == "german"
    with pytest.raises(bm25x.OptionError, match="must be a finite number"):
        translate({"k": float("nan")})
