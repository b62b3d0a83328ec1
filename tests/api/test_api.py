"""The public API: types, shapes, batches, iteration, pickling, threads, explain."""

from __future__ import annotations

import copy
import os
import pickle
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
from support import require

import bm25x
from bm25x import Bm25, SparseBatch, SparseVector

RECIPE = "Recipe for baking chocolate chip cookies"
RECIPE_IDS = [112174620, 177304315, 662344706, 771857363, 1617337648]


def test_published_example_document_and_query() -> None:
    enc = Bm25()
    v = enc.encode(RECIPE)
    assert isinstance(v, SparseVector)
    assert v.indices.dtype == np.uint32 and v.values.dtype == np.float32
    assert v.indices.tolist() == RECIPE_IDS
    assert v.values.tolist() == [np.float32(1.6697302)] * 5
    q = enc.encode_query("How to bake cookies?")
    assert q.indices.tolist() == [112174620, 662344706]
    assert q.values.tolist() == [1.0, 1.0]


def test_batch_is_csr_and_items_are_views() -> None:
    enc = Bm25()
    texts = [RECIPE, "", "the the the", "cookies cookies chip"]
    batch = enc.encode(texts)
    assert isinstance(batch, SparseBatch)
    assert len(batch) == 4
    assert batch.indptr.dtype == np.int64
    assert batch.indptr.tolist()[0] == 0 and batch.indptr[-1] == len(batch.indices)
    assert [len(v) for v in batch] == [5, 0, 0, 2]
    for text, item in zip(texts, batch):
        assert item == enc.encode(text)
    assert np.shares_memory(batch[3].indices, batch.indices)
    assert batch[-1] == batch[3]
    assert [v.to_dict() for v in batch[1:3]] == [{}, {}]
    with pytest.raises(IndexError):
        batch[4]
    with pytest.raises(TypeError):
        batch["0"]  # type: ignore[call-overload]


def test_any_iterable_of_str() -> None:
    enc = Bm25()
    texts = ["alpha beta", "gamma", "beta beta"]
    expected = enc.encode(texts)
    assert enc.encode(tuple(texts)) == expected
    assert enc.encode(t for t in texts) == expected
    assert enc.encode(np.array(texts)) == expected
    assert enc.encode(iter(texts)) == expected
    assert len(enc.encode([])) == 0
    assert enc.encode_query(texts)[2].to_dict() == enc.encode_query("beta beta").to_dict()


def test_threads_give_identical_results() -> None:
    # About 1.3 MB: above the size under which a batch stays on the calling thread.
    texts = [f"document {i} about {'cookies ' * (i % 5)} and dogs {i % 13}" for i in range(20_000)]
    one = Bm25(threads=1).encode(texts)
    assert Bm25().encode(texts, threads=2) == one
    assert Bm25(threads=4).encode(texts) == one
    assert Bm25().encode_query(texts, threads=3) == Bm25().encode_query(texts, threads=1)


def test_concurrent_calls_from_python_threads() -> None:
    enc = Bm25()
    texts = [f"text number {i} with words" for i in range(2000)]
    expected = enc.encode(texts, threads=1)
    results: list[SparseBatch] = []

    def work() -> None:
        results.append(enc.encode(texts, threads=1))

    workers = [threading.Thread(target=work) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(results) == 4 and all(r == expected for r in results)


def test_pickle_copy_equality_and_repr() -> None:
    enc = Bm25(k=1.5, language="de", stopwords={"custom": ["foo"]}, threads=2)
    again = pickle.loads(pickle.dumps(enc))
    assert again == enc and again.threads == 2
    assert again.encode("Die Häuser foo") == enc.encode("Die Häuser foo")
    assert copy.deepcopy(enc) is enc
    assert Bm25(**enc.options) == enc
    assert Bm25() != enc
    assert "k=1.5" in repr(enc) and "language='de'" in repr(enc)
    v = enc.encode("Häuser")
    assert pickle.loads(pickle.dumps(v)) == v
    b = enc.encode(["a b", "Häuser"])
    assert pickle.loads(pickle.dumps(b)) == b


def test_config_resolves_defaults() -> None:
    c = Bm25(language="zh").config
    assert c["flavor"] == "qdrant"
    assert c["stopword_languages"] == ["chinese"] and c["stemmer"] is None
    assert c["k"] == 1.2 and c["b"] == 0.75 and c["avg_len"] == 256.0
    assert Bm25(flavor="fastembed").config["max_token_len"] == 40
    assert Bm25(flavor="fastembed").flavor == "fastembed"


def test_options_accept_enum_and_model_objects() -> None:
    models = require("qdrant_client.models")
    enc = Bm25(
        tokenizer=models.TokenizerType.WHITESPACE,
        stopwords=models.StopwordsSet(languages=[models.Language.ENGLISH], custom=["foo"]),
        stemmer=models.SnowballParams(type="snowball", language=models.SnowballLanguage.GERMAN),
    )
    c = enc.config
    assert c["tokenizer"] == "whitespace"
    assert c["stopword_languages"] == ["english"] and c["custom_stopwords"] == ["foo"]
    assert c["stemmer"] == "german"


def test_terms_and_explain() -> None:
    enc = Bm25()
    assert enc.terms("The Cookies!") == ["cooki"]
    ex = enc.explain("The cookies, the COOKIES")
    assert [r.raw for r in ex.rows] == ["The", "cookies", "the", "COOKIES"]
    assert ex.rows[0].dropped == "stopword" and ex.rows[0].terms == ()
    assert ex.rows[1].terms == ("cooki",) and ex.rows[1].ids == (112174620,)
    weight = enc.encode("The cookies, the COOKIES").to_dict()[112174620]
    assert ex.rows[3].weights == (weight,)
    text = str(ex)
    assert "stopword" in text and "cooki" in text and "112174620" in text
    assert "<table>" in ex._repr_html_()
    long = Bm25(max_token_len=3).explain("cookies")
    assert long.rows[0].dropped == "longer than the maximum token length"
    q = enc.explain("bake bake", query=True)
    assert q.query and q.rows[0].weights == (1.0,)


def test_sparse_vector_helpers() -> None:
    v = SparseVector([1, 9], [0.5, 2.0])
    assert v.as_qdrant() == {"indices": [1, 9], "values": [0.5, 2.0]}
    assert "1: 0.5" in repr(v)
    # float32 values print as float32 (shortest form), not as the float64 they widen to.
    assert repr(bm25x.Bm25().encode("cookies")) == "SparseVector({112174620: 1.6877434})"
    with pytest.raises(ValueError, match="same length"):
        SparseVector([1, 2], [1.0])
    b = SparseBatch.concat([Bm25().encode(["a cookie"]), Bm25().encode(["chip", "bake"])])
    assert len(b) == 3 and b[2] == Bm25().encode("bake")
    with pytest.raises(ValueError, match="CSR"):
        SparseBatch([0, 3], [1], [1.0])


def test_version_is_exported() -> None:
    assert bm25x.__version__.count(".") == 2


@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_interrupts_a_large_encode_mid_call(threads: int) -> None:
    # The handler runs inside the native call, not after it returned: the profiler marks when
    # encode_many is running, so this counts handler calls made mid-call. One thread: the
    # caller checks between pieces it encodes; two: the waiting caller checks while the pool
    # works, and the pool stops at its next piece.
    code = """
        import os, signal, sys, threading
        import bm25x

        state = {"inside": False, "during": 0}

        def profile(frame, event, arg):
            if getattr(arg, "__name__", "") == "encode_many":
                if event == "c_call":
                    state["inside"] = True
                elif event in ("c_return", "c_exception"):
                    state["inside"] = False

        def handler(signum, frame):
            state["during"] += state["inside"]
            raise KeyboardInterrupt

        def send() -> None:
            while not state["inside"]:
                threading.Event().wait(0.001)
            os.kill(os.getpid(), signal.SIGINT)

        signal.signal(signal.SIGINT, handler)
        texts = ["lorem ipsum dolor sit amet consectetur " * 25] * 150_000  # 150 MB of text
        threading.Thread(target=send, daemon=True).start()
        sys.setprofile(profile)
        try:
            bm25x.Bm25().encode(texts, threads=THREADS)
        except KeyboardInterrupt:
            sys.setprofile(None)
            print("interrupted", state["during"])
        else:
            sys.setprofile(None)
            print("finished", state["during"])
        enc = bm25x.Bm25()
        assert enc.encode(["after the interrupt"]) == enc.encode(["after the interrupt"] * 1)
        print(enc.encode("cookies").indices.tolist())
    """
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code).replace("THREADS", str(threads))],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 0, done.stderr
    assert "PanicException" not in done.stderr and "panicked" not in done.stderr
    lines = done.stdout.split("\n")
    assert lines[0] == "interrupted 1", done.stdout
    assert lines[1] == "[112174620]"


def test_thread_pools_do_not_accumulate() -> None:
    def threads_now() -> int:
        return len(os.listdir("/proc/self/task"))

    enc = Bm25()
    texts = ["some text to encode"] * 20_000  # 700 KB: enough for the pool to be used
    before = threads_now()
    most = before
    for n in range(2, 41):
        enc.encode(texts, threads=n)
        most = max(most, threads_now())
    assert most > before + 30, "the pools were never started"
    # bm25x keeps the 4 most recently used pools (the caller helps, so 36..39 threads); the
    # others' threads exit.
    kept = 36 + 37 + 38 + 39
    deadline = time.monotonic() + 30
    while threads_now() > before + kept and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threads_now() <= before + kept
