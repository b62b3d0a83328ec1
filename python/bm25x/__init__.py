"""bm25x: BM25 sparse vectors bit-identical to Qdrant's ``qdrant/bm25``, from a fast Rust core.

>>> import bm25x
>>> enc = bm25x.Bm25()
>>> vec = enc.encode("Recipe for baking chocolate chip cookies")
>>> vec.indices.tolist()
[112174620, 177304315, 662344706, 771857363, 1617337648]
>>> round(float(vec.values[0]), 7)
1.6697302
>>> enc.encode_query("How to bake cookies?").indices.tolist()
[112174620, 662344706]
"""

from bm25x._embed import Usage, aembed, embed
from bm25x._encoder import Bm25
from bm25x._explain import Explanation, ExplanationRow
from bm25x._native import OptionError, __version__
from bm25x._sparse import SparseBatch, SparseVector
from bm25x.errors import (
    BadInputError,
    DimensionMismatchError,
    InferenceError,
    InternalError,
    KeyTooLongError,
    MissingApiKeyError,
    ModelNotAvailableError,
    PartialInferenceError,
    ProviderConfigError,
    ProviderDimensionError,
    ProviderHTTPError,
    ProviderResponseError,
    SparseFormatError,
    ThreadStartError,
    UnknownModelError,
)

__all__ = [
    "BadInputError",
    "Bm25",
    "DimensionMismatchError",
    "Explanation",
    "ExplanationRow",
    "InferenceError",
    "InternalError",
    "KeyTooLongError",
    "MissingApiKeyError",
    "ModelNotAvailableError",
    "OptionError",
    "PartialInferenceError",
    "ProviderConfigError",
    "ProviderDimensionError",
    "ProviderHTTPError",
    "ProviderResponseError",
    "SparseBatch",
    "SparseFormatError",
    "SparseVector",
    "ThreadStartError",
    "UnknownModelError",
    "Usage",
    "__version__",
    "aembed",
    "embed",
]
