"""``bm25x.embed`` with local providers: bm25 through the registry equals ``bm25x.Bm25``; item
forms; Qdrant Cloud passthrough; the registry and its entry points; the local-models
provider (fastembed's models, offline), with a real small model shipped on PyPI."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qdrant_client import models
from support import require
from support.fastembed_stand_ins import _StandIn

import bm25x
from bm25x import providers
from bm25x.providers import Call, EmbedRequest, Item, Kind, Vector
from bm25x.providers.local_models import LocalModelProvider

DOCS = [
    "Recipe for baking chocolate chip cookies",
    "The cookies were baked at 180 degrees",
    "Qdrant is a vector database",
    "",
    "Recipe for baking chocolate chip cookies",
]


@pytest.fixture
def registry() -> Iterator[Any]:
    providers.list()
    saved = dict(providers._entries), list(providers._catch_all), providers._entry_points_loaded
    yield providers
    providers._entries.clear()
    providers._entries.update(saved[0])
    providers._catch_all[:] = saved[1]
    providers._entry_points_loaded = saved[2]


# -- bm25 through the registry ------------------------------------------------------------


@pytest.mark.parametrize("name", ["qdrant/bm25", "QDRANT/BM25", "qdrant/BM25", "bm25", "BM25"])
def test_server_bm25_equals_bm25(name: str) -> None:
    enc = bm25x.Bm25()
    assert bm25x.embed(DOCS, model=name) == list(enc.encode(DOCS))
    assert bm25x.embed(DOCS, model=name, query=True) == list(enc.encode_query(DOCS))
    assert bm25x.embed(DOCS[0], model=name) == enc.encode(DOCS[0])


def test_fastembed_spelling_is_the_fastembed_flavour() -> None:
    enc = bm25x.Bm25(flavor="fastembed")
    assert bm25x.embed(DOCS, model="Qdrant/bm25") == list(enc.encode(DOCS))
    assert bm25x.embed(DOCS, model="Qdrant/bm25", query=True) == list(enc.encode_query(DOCS))
    server = bm25x.embed("Running runners ran", model="qdrant/bm25")
    fast = bm25x.embed("Running runners ran", model="Qdrant/bm25")
    assert server == bm25x.Bm25().encode("Running runners ran")
    assert fast == enc.encode("Running runners ran")
    # an explicit flavor option wins over the spelling
    explicit = bm25x.embed("Running runners ran", model="Qdrant/bm25", options={"flavor": "qdrant"})
    assert explicit == server


def test_bm25_options_all_forms() -> None:
    opts = {"k": 1.5, "b": 0.6, "language": "german", "stemmer": {"type": "none"}}
    enc = bm25x.Bm25(**opts)
    text = "Die Kekse wurden gebacken"
    assert bm25x.embed(text, model="qdrant/bm25", options=opts) == enc.encode(text)
    doc = models.Document(text=text, model="qdrant/bm25", options=opts)
    as_dict = {"text": text, "model": "qdrant/bm25", "options": opts}
    config = models.Document(
        text=text,
        model="qdrant/bm25",
        options=models.Bm25Config(k=1.5, b=0.6, language="german", stemmer={"type": "none"}),
    )
    assert bm25x.embed([doc, as_dict, config]) == [enc.encode(text)] * 3
    with pytest.raises(bm25x.BadInputError, match="bad options") as info:
        bm25x.embed(["a", "b"], model="qdrant/bm25", options={"k": "high"})
    assert info.value.items == [0, 1] and isinstance(info.value, ValueError)


def test_bad_items() -> None:
    with pytest.raises(bm25x.BadInputError, match="needs model"):
        bm25x.embed("no model")
    with pytest.raises(bm25x.BadInputError, match="item 1") as info:
        bm25x.embed(["ok", {"txt": "typo", "model": "bm25"}], model="bm25")
    assert info.value.items == [1]
    with pytest.raises(bm25x.BadInputError, match="text only"):
        bm25x.embed(models.Image(image="a.png", model="qdrant/bm25"))
    with pytest.raises(bm25x.BadInputError, match="must be a str"):
        bm25x.embed({"text": 42, "model": "bm25"})
    with pytest.raises(TypeError):
        bm25x.embed(42, model="bm25")
    assert bm25x.embed([], model="bm25") == []


def test_a_model_name_over_the_bound_is_refused_naming_the_item() -> None:
    from bm25x._embed.items import MAX_MODEL_BYTES

    long_name = "openai/" + "m" * (1024 * 1024)
    with pytest.raises(bm25x.BadInputError, match=r"item 1: model name .* over the limit") as info:
        bm25x.embed(["ok", {"text": "hi", "model": long_name}], model="bm25")
    assert info.value.items == [1]
    assert len(str(info.value)) < 300  # the name is shown cut, not whole
    with pytest.raises(bm25x.BadInputError, match="item 0"):
        bm25x.embed("hi", model="é" * (MAX_MODEL_BYTES // 2 + 1))  # counted in bytes
    # a name at the bound is no error of the name's (this one is an unknown model)
    with pytest.raises(bm25x.UnknownModelError):
        bm25x.embed("hi", model="x/" + "m" * (MAX_MODEL_BYTES - 2))


def test_unknown_model_fails_before_anything_runs() -> None:
    with pytest.raises(bm25x.UnknownModelError, match="no provider serves") as info:
        bm25x.embed(["a", models.Document(text="b", model="acme/secret-model")], model="bm25")
    assert info.value.items == [1] and info.value.model == "acme/secret-model"
    assert isinstance(info.value, LookupError)


def test_cloud_passthrough() -> None:
    items = [
        models.Document(text="a", model="acme/cloud-model"),
        models.Document(text="b", model="qdrant/bm25"),
        {"image": "https://example.invalid/x.png", "model": "acme/clip"},
        "plain",
    ]
    out = bm25x.embed(items, model="acme/cloud-model", options={"x": 1}, cloud="fallback")
    assert out[0] is items[0]
    assert out[1] == bm25x.Bm25().encode("b")
    assert out[2] == models.Image(image="https://example.invalid/x.png", model="acme/clip")
    assert out[3] == models.Document(text="plain", model="acme/cloud-model", options={"x": 1})
    everything = bm25x.embed(items, model="acme/cloud-model", cloud=True)
    assert everything[1] is items[1]
    with pytest.raises(ValueError):
        bm25x.embed("a", model="bm25", cloud="sometimes")  # type: ignore[arg-type]


def test_aembed() -> None:
    async def main() -> Any:
        return await asyncio.gather(
            bm25x.aembed(DOCS, model="qdrant/bm25"),
            bm25x.aembed(models.Document(text=DOCS[1], model="bm25"), query=True),
        )

    many, one = asyncio.run(main())
    assert many == list(bm25x.Bm25().encode(DOCS))
    assert one == bm25x.Bm25().encode_query(DOCS[1])


# -- the registry -------------------------------------------------------------------------


class Reverser:
    """A tiny provider: a dense vector of the text's character codes, reversed."""

    name = "reverser"
    max_batch = 2
    max_concurrency = 2

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def batch_limit(self, kind: Kind) -> int:
        return self.max_batch

    async def embed_batch(self, request: EmbedRequest) -> list[Vector]:
        items = request.items
        self.batches.append([i.value for i in items])
        scale = float(request.options.get("scale", 1.0))
        return [
            np.asarray([ord(c) * scale for c in reversed(i.value)], dtype=np.float32) for i in items
        ]


def test_register_prefix_and_exact_name(registry: Any) -> None:
    rev = Reverser()
    registry.register("rev/", rev)
    registry.register("exact-model", Reverser)  # a factory
    assert "rev/" in registry.list() and "exact-model" in registry.list()
    out = bm25x.embed(["ab", "cd", "ef"], model="rev/anything", options={"scale": 2})
    assert [v.tolist() for v in out] == [[196.0, 194.0], [200.0, 198.0], [204.0, 202.0]]
    assert sorted(map(len, rev.batches)) == [1, 2]
    assert bm25x.embed("xy", model="EXACT-MODEL").tolist() == [121.0, 120.0]
    assert registry.resolve("rev/a/b")[1] == "a/b"
    registry.unregister("rev/")
    with pytest.raises(bm25x.UnknownModelError):
        bm25x.embed("x", model="rev/anything")
    with pytest.raises(TypeError):
        registry.register("bad/", 42)
    with pytest.raises(ValueError):
        registry.register("", rev)


def test_a_resolved_name_follows_later_registrations(registry: Any) -> None:
    # resolve() keeps the names it found (every call and every service request asks), so a
    # registration made afterwards must still win where the lookup order says it does.
    first, longer, replaced = Reverser(), Reverser(), Reverser()
    registry.register("rev/", first)
    assert registry.resolve("rev/a/b") == (first, "a/b")
    registry.register("rev/a/", longer)  # a longer prefix wins
    assert registry.resolve("rev/a/b") == (longer, "b")
    registry.register("rev/a/", replaced)  # a replaced entry
    assert registry.resolve("rev/a/b") == (replaced, "b")
    registry._entries["rev/a/"] = first  # changed behind register's back (as tests restore it)
    assert registry.resolve("rev/a/b") == (first, "b")
    registry.unregister("rev/a/")
    assert registry.resolve("rev/a/b") == (first, "a/b")
    registry.unregister("rev/")
    with pytest.raises(bm25x.UnknownModelError):
        registry.resolve("rev/a/b")


def test_provider_bugs_become_inference_errors(registry: Any) -> None:
    class Broken(Reverser):
        async def embed_batch(self, *args: Any, **kwargs: Any) -> list[Vector]:
            raise RuntimeError("boom")

    class Short(Reverser):
        async def embed_batch(self, *args: Any, **kwargs: Any) -> list[Vector]:
            return []

    registry.register("broken/", Broken())
    registry.register("short/", Short())
    with pytest.raises(bm25x.InferenceError, match="RuntimeError: boom") as info:
        bm25x.embed(["a", "b"], model="broken/x")
    assert info.value.items == [0, 1] and info.value.provider == "reverser"
    with pytest.raises(bm25x.ProviderResponseError, match="0 vectors for 1"):
        bm25x.embed("a", model="short/x")


def test_entry_points(registry: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bm25x_test_plugin.py").write_text(
        textwrap.dedent(
            """
            import numpy as np

            class Plugin:
                name = "plugin"
                max_batch = 8
                max_concurrency = 1

                def batch_limit(self, kind):
                    return 8

                async def embed_batch(self, request):
                    return [np.full(3, len(i.value), dtype=np.float32) for i in request.items]

            def broken():
                raise ImportError("nope")
            """
        )
    )
    dist = tmp_path / "bm25x_test_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: bm25x-test-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[bm25x.providers]\nplugin/ = bm25x_test_plugin:Plugin\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    registry._entry_points_loaded = False
    assert "plugin/" in registry.list()
    assert bm25x.embed("four", model="plugin/m").tolist() == [4.0, 4.0, 4.0]
    sys.modules.pop("bm25x_test_plugin", None)


# -- the local-models provider (fastembed's models) ----------------------------------------


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("FASTEMBED_CACHE_PATH", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_fastembed_real_model_offline(minilm_dir: Path, offline: Path) -> None:
    from fastembed import TextEmbedding

    model = "sentence-transformers/all-MiniLM-L6-v2"
    opts = {"specific_model_path": str(minilm_dir), "cache_dir": str(offline)}
    texts = ["A cat sits on the mat", "A kitten is sitting on a rug", "Stock markets fell today"]
    out = bm25x.embed(texts, model=model, options=opts)
    assert all(v.dtype == np.float32 and v.shape == (384,) for v in out)
    assert all(abs(float(np.linalg.norm(v)) - 1.0) < 1e-4 for v in out)
    assert float(out[0] @ out[1]) > float(out[0] @ out[2]) + 0.2
    direct = list(TextEmbedding(model, **opts).embed(texts))
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(out, direct))
    # the same model under the explicit prefix, and as a query
    q = bm25x.embed(texts[0], model=f"fastembed/{model}", options=opts, query=True)
    assert np.allclose(q, out[0], atol=1e-6)
    # mrl cuts the real vector
    cut = bm25x.embed(texts[0], model=model, options={**opts, "mrl": 64})
    assert np.array_equal(cut, out[0][:64])


def test_the_prefixed_and_bare_names_share_one_local_models_provider() -> None:
    # "fastembed/<name>" and "<name>" reach the same provider instance, so a model loaded
    # under one name is not loaded again under the other (a fresh registry: a subprocess).
    code = (
        "from bm25x import providers\n"
        "name = 'sentence-transformers/all-MiniLM-L6-v2'\n"
        "a, b = providers.resolve('fastembed/' + name), providers.resolve(name)\n"
        "assert a[1] == b[1] == name, (a, b)\n"
        "assert type(a[0]).__name__ == 'LocalModelProvider', a\n"
        "print(a[0] is b[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "True"


def test_fastembed_model_absent_says_how_to_provide_it(offline: Path, registry: Any) -> None:
    require("fastembed")
    with pytest.raises(bm25x.ModelNotAvailableError) as info:
        bm25x.embed(
            "x",
            model="BAAI/bge-small-en-v1.5",
            options={"cache_dir": str(offline), "local_files_only": True},
        )
    msg = str(info.value)
    assert "specific_model_path" in msg and "cache_dir" in msg
    assert info.value.provider == "fastembed" and info.value.items == [0]


def test_fastembed_not_installed(registry: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fastembed", None)  # import fastembed -> ImportError
    provider = LocalModelProvider()
    registry._catch_all[:] = [provider]
    registry.register("fastembed/", provider)
    with pytest.raises(bm25x.UnknownModelError, match=r"bm25x-sparse\[fastembed\]"):
        bm25x.embed("x", model="BAAI/bge-small-en-v1.5")
    with pytest.raises(
        bm25x.ModelNotAvailableError, match=r"pip install 'bm25x-sparse\[fastembed\]'"
    ):
        bm25x.embed("x", model="fastembed/BAAI/bge-small-en-v1.5")


def test_fastembed_adapter_output_kinds(
    registry: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fastembed = require("fastembed")
    for cls_name, kind in (
        ("SparseTextEmbedding", "sparse"),
        ("LateInteractionTextEmbedding", "late"),
        ("ImageEmbedding", "image"),
    ):
        monkeypatch.setattr(fastembed, cls_name, type(cls_name, (_StandIn,), {"kind": kind}))
    provider = LocalModelProvider()
    provider._names = {
        "x/sparse": ("sparse", "X/Sparse"),
        "x/late": ("late", "X/Late"),
        "x/image": ("image", "X/Image"),
    }
    registry._catch_all[:] = [provider]
    sparse = bm25x.embed("t", model="x/sparse")
    assert sparse == bm25x.SparseVector([2, 5, 9], [0.25, 1.0, 0.5])
    assert bm25x.embed("t", model="X/SPARSE", query=True) == bm25x.SparseVector([7], [1.0])
    late = bm25x.embed(["t", "t"], model="x/late")
    assert [len(v) for v in late] == [3, 3] and late[0][1].tolist() == [2.0, 3.0]
    assert late[0][0].dtype == np.float32 and late[0][0] is not late[1][0]
    png = tmp_path / "a.png"
    from PIL import Image as PILImage

    PILImage.new("RGB", (7, 3)).save(png)
    data = png.read_bytes()
    import base64

    b64 = base64.b64encode(data).decode()
    out = bm25x.embed(
        [
            {"image": png, "model": "x/image"},
            models.Image(image=f"data:image/png;base64,{b64}", model="x/image"),
            {"image": data, "model": "x/image"},
        ]
    )
    assert [v.tolist() for v in out[1:]] == [[7.0, 1.0], [7.0, 1.0]]
    with pytest.raises(bm25x.BadInputError, match="text only"):
        bm25x.embed(models.Image(image=b64, model="x/late"))


def _image_provider(registry: Any, monkeypatch: pytest.MonkeyPatch) -> LocalModelProvider:
    fastembed = pytest.importorskip("fastembed")
    monkeypatch.setattr(fastembed, "ImageEmbedding", type("ImageEmbedding", (_StandIn,), {}))
    provider = LocalModelProvider()
    provider._names = {"x/image": ("image", "X/Image")}
    registry._catch_all[:] = [provider]
    return provider


def test_fastembed_image_strings_are_never_file_names(
    registry: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _image_provider(registry, monkeypatch)
    from PIL import Image as PILImage

    secret = tmp_path / "secret.png"
    PILImage.new("RGB", (5, 2)).save(secret)
    # A string naming a file of the machine is refused, whether or not the file exists, and
    # the error says the same either way (it must not tell which files exist).
    errors = []
    for name in (str(secret), str(tmp_path / "absent.png")):
        with pytest.raises(bm25x.BadInputError, match="never opened as files") as info:
            bm25x.embed({"image": name, "model": "x/image"})
        errors.append(str(info.value))
    assert errors[0] == errors[1]
    # the same file as a path object, from a Python caller, is opened
    assert bm25x.embed({"image": secret, "model": "x/image"}).tolist() == [5.0, 1.0]


def test_fastembed_short_base64_images(registry: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import base64
    import io

    from PIL import Image as PILImage

    _image_provider(registry, monkeypatch)
    buf = io.BytesIO()
    PILImage.new("RGB", (3, 1)).save(buf, format="PNG")
    b64 = base64.b64encode(buf.getvalue()).decode()
    assert len(b64) < 200  # a whole PNG in fewer characters than a long file name
    assert bm25x.embed(models.Image(image=b64, model="x/image")).tolist() == [3.0, 1.0]
    with pytest.raises(bm25x.BadInputError, match="not an image format"):
        bm25x.embed({"image": base64.b64encode(b"not an image").decode(), "model": "x/image"})


def test_fastembed_image_urls_are_fetched_under_the_fetch_policy(
    registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from support.provider_server import PNG, FakeProviders

    _image_provider(registry, monkeypatch)
    server = FakeProviders()
    try:
        url = server.url("images") + "/tiny.png"
        # loopback: refused by the default policy, before any request
        with pytest.raises(bm25x.BadInputError, match=r"was not fetched.*loopback"):
            bm25x.embed(models.Image(image=url, model="x/image"))
        assert server.calls("images") == []
        policy = providers.FetchPolicy(allow_private=True)
        got = bm25x.embed(models.Image(image=url, model="x/image"), fetch_policy=policy)
        import io

        from PIL import Image as PILImage

        width = PILImage.open(io.BytesIO(PNG)).size[0]
        assert got.tolist() == [float(width), 1.0] and len(server.calls("images")) == 1
        with pytest.raises(bm25x.BadInputError, match="was not fetched"):
            bm25x.embed(
                models.Image(image=url, model="x/image"),
                fetch_policy=providers.FetchPolicy(allow_private=True, max_bytes=10),
            )
    finally:
        server.close()


def test_fastembed_keeps_a_bounded_number_of_loaded_models(
    registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fastembed = pytest.importorskip("fastembed")
    monkeypatch.setattr(fastembed, "TextEmbedding", type("TextEmbedding", (_StandIn,), {}))
    provider = LocalModelProvider()
    provider.max_loaded = 2
    provider._names = {"x/dense": ("dense", "X/Dense")}
    registry._catch_all[:] = [provider]
    for threads in (1, 2, 3, 2):
        bm25x.embed("t", model="x/dense", options={"threads": threads})
    # one loaded model per distinct options, the least recently used one dropped
    loaded = [m.kwargs["threads"] for _, m in provider._models.values()]
    assert loaded == [3, 2]


def test_fastembed_refuses_options_it_would_ignore(
    registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fastembed = pytest.importorskip("fastembed")
    # fastembed's classes take **kwargs and drop what they do not know: bm25x names it instead
    with pytest.raises(bm25x.BadInputError, match=r"unknown option.*: thread; accepted: .*threads"):
        bm25x.embed("x", model="BAAI/bge-small-en-v1.5", options={"thread": 2})
    monkeypatch.setattr(fastembed, "TextEmbedding", type("TextEmbedding", (_StandIn,), {}))
    provider = LocalModelProvider()
    provider._names = {"x/dense": ("dense", "X/Dense")}
    registry._catch_all[:] = [provider]
    with pytest.raises(bm25x.BadInputError, match=r"unknown option.*: bogus") as info:
        bm25x.embed("t", model="x/dense", options={"bogus": 1, "cache_dir": "/tmp"})
    assert info.value.items == [0] and provider._models == {}


# -- bad calls: typed errors naming the problem, no stray exception context -------------------


def test_errors_from_embed_carry_no_event_loop_context() -> None:
    with pytest.raises(bm25x.BadInputError) as info:
        bm25x.embed(["a", 5], model="qdrant/bm25")
    # Not "During handling of RuntimeError: no running event loop, another exception occurred".
    assert info.value.__context__ is None and info.value.items == [1]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_concurrency": 0}, ValueError, "max_concurrency must be a positive integer"),
        ({"max_concurrency": -1}, ValueError, "max_concurrency must be a positive integer"),
        ({"max_concurrency": "2"}, ValueError, "max_concurrency must be a positive integer"),
        ({"headers": [("openai-api-key", "k")]}, TypeError, "headers must be a dict"),
    ],
)
def test_bad_call_arguments_are_named(
    kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        bm25x.embed("a", model="qdrant/bm25", **kwargs)


def test_bytes_are_refused_as_bytes() -> None:
    with pytest.raises(TypeError, match="got bytes; decode it first"):
        bm25x.embed(b"cookies", model="qdrant/bm25")


def test_invalid_unicode_names_its_own_item_only() -> None:
    items = [{"text": "x", "model": "Qdrant/bm25"}, "fine", "bad \ud800 text"]
    with pytest.raises(bm25x.BadInputError, match="item 2: text contains a lone surrogate") as e:
        bm25x.embed(items, model="qdrant/bm25")
    assert e.value.items == [2]


def test_bm25_threads_option_is_accepted() -> None:
    got = bm25x.embed(DOCS[:2], model="qdrant/bm25", options={"threads": 1})
    assert got == list(bm25x.Bm25().encode(DOCS[:2]))


def test_bad_mrl_is_refused_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens there: the error must come from the check, not from the network.
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9")
    with pytest.raises(bm25x.BadInputError, match="mrl must be a positive integer"):
        bm25x.embed(
            "text",
            model="openai/text-embedding-3-small",
            options={"mrl": 0, "openai-api-key": "sk-test"},
            headers={},
        )


# -- the address guard, the key registry, provider answers checked for every provider ---------


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("127.0.0.2", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("100.64.0.1", "CGNAT"),
        ("100.100.100.200", "cloud metadata"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("255.255.255.255", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fd00:ec2::254", "cloud metadata"),
        ("::ffff:127.0.0.1", "IPv6 form of 127.0.0.1"),
        ("::ffff:169.254.169.254", "IPv6 form of 169.254.169.254"),
        ("::127.0.0.1", "IPv6 form of 127.0.0.1"),
        ("2002:a00:1::", "IPv6 form of 10.0.0.1"),
        ("64:ff9b::7f00:1", "IPv6 form of 127.0.0.1"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "IPv6 form of 127.0.0.1"),  # Teredo
    ],
)
def test_non_public_addresses_are_named(address: str, why: str) -> None:
    import ipaddress

    from bm25x.providers._fetch import blocked_reason

    reason = blocked_reason(ipaddress.ip_address(address))
    assert reason is not None and why in reason
    assert not providers.FetchPolicy().allows_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert providers.FetchPolicy().allows_address(address)


def test_fetch_policy_allow_lists_and_validation() -> None:
    policy = providers.FetchPolicy(allowed_hosts=frozenset({"10.0.0.0/8", "Images.Internal"}))
    assert policy.allows_address("10.9.9.9") and not policy.allows_address("192.168.0.1")
    assert policy.allows_address("192.168.0.1", host="images.internal.")
    private = providers.FetchPolicy(allow_private=True)
    assert private.allows_address("192.168.0.1") and not private.allows_address("169.254.169.254")
    assert not private.allows_address("::ffff:169.254.169.254")
    assert not private.allows_address("224.0.0.1")
    for bad, error in (
        ({"allowed_hosts": "10.0.0.0/8"}, TypeError),
        ({"max_bytes": 0}, ValueError),
        ({"timeout": float("nan")}, ValueError),
        ({"max_redirects": -1}, ValueError),
    ):
        with pytest.raises(error, match="FetchPolicy"):
            providers.FetchPolicy(**bad)
    with pytest.raises(TypeError, match="fetch_policy must be"):
        bm25x.embed("x", model="qdrant/bm25", fetch_policy={"allow_private": True})  # type: ignore[arg-type]


def test_key_registry_is_bounded_and_keeps_the_newest() -> None:
    from bm25x import _redact, _secrets

    newest = "sk-newest-key-0123456789"
    for i in range(_secrets.MAX_SECRETS + 500):
        _secrets.remember_secret(f"sk-flood-{i:08d}-abcdefgh")
    _secrets.remember_secret(newest)
    assert len(_redact._REGISTRY.keys) == _secrets.MAX_SECRETS
    assert _secrets.redact(f"echo {newest} and {newest[:12]}") == "echo *** and ***"
    # the oldest were forgotten, their pieces too
    assert "sk-flood-00000000-abcdefgh" not in _redact._REGISTRY.keys
    assert "00000000" not in _redact._REGISTRY.windows


def test_redaction_masks_before_cutting() -> None:
    from bm25x._secrets import redact, remember_secret

    secret = remember_secret("sk-cut-in-the-middle-0123456789")
    text = "a" * 90 + " " + secret + " tail"
    cut = redact(text, limit=100)
    assert len(cut) <= 103 and not any(secret[i : i + 8] in cut for i in range(len(secret) - 7))
    assert redact("starts with " + secret[-10:]) == "starts with ***"
    assert redact("plain words stay as they are") == "plain words stay as they are"


class _Odd(Reverser):
    """Answers what the test sets in ``answer`` instead of real vectors."""

    def __init__(self, answer: list[Any]) -> None:
        super().__init__()
        self.answer = answer

    async def embed_batch(self, *args: Any, **kwargs: Any) -> list[Vector]:
        return list(self.answer)


@pytest.mark.parametrize(
    ("vector", "problem"),
    [
        (np.array([0.5, np.nan], dtype=np.float32), "NaN or infinite"),
        (np.array([np.inf, 0.5], dtype=np.float32), "NaN or infinite"),
        (np.array([], dtype=np.float32), "is empty"),
        ([np.array([0.5, np.nan], dtype=np.float32)], "NaN or infinite"),
        ([], "is empty"),
    ],
)
def test_unusable_vectors_from_any_provider_name_their_item(
    registry: Any, vector: Any, problem: str
) -> None:
    odd = _Odd([np.array([0.5, 0.5], dtype=np.float32), vector])
    registry.register("odd/", odd)
    with pytest.raises(bm25x.PartialInferenceError) as info:
        bm25x.embed(["a", "b"], model="odd/m")
    (inner,) = info.value.errors
    assert isinstance(inner, bm25x.ProviderResponseError) and inner.items == [1]
    assert "vector for item 1 " in str(inner) and problem in str(inner) and inner.model == "m"
    assert info.value.results[0] is not None and info.value.results[1] is None


def test_embed_request_is_a_frozen_value_that_hides_keys() -> None:
    from dataclasses import FrozenInstanceError

    from bm25x._secrets import remember_secret

    key = remember_secret("sk-request-repr-0123456789")
    request = EmbedRequest("m", [Item("text", "a")], {"x": 1}, Call(), {"openai-api-key": key})
    assert "sk-request" not in repr(request) and "m" in repr(request)
    with pytest.raises(FrozenInstanceError):
        request.model = "other"  # type: ignore[misc]
    assert EmbedRequest("m", []).options == {} and EmbedRequest("m", []).call.query is False


def test_docs_plugin_example_runs(registry: Any, capsys: pytest.CaptureFixture[str]) -> None:
    import re

    from support.strategies import REPO

    page = REPO.joinpath("docs", "guides", "embed.md").read_text(encoding="utf-8")
    (block,) = [
        b for b in re.findall(r"```python\n(.*?)```", page, re.DOTALL) if "EmbedRequest" in b
    ]
    exec(compile(block, "docs/guides/embed.md", "exec"), {"__name__": "docs"})
    assert (
        "[array([1., 1., 1., 1.], dtype=float32), array([3., 3., 3., 3.]" in capsys.readouterr().out
    )
