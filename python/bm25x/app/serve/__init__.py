"""``bm25x serve``: the inference service a self-hosted Qdrant forwards its Inference API to
(``pip install "bm25x-sparse[serve]"``).

>>> from bm25x.app.serve import ServeConfig, create_app
>>> app = create_app(ServeConfig(allowed_models=("qdrant/bm25", "openai/*")))

Run it with ``bm25x serve [--host H] [--port P] [--config FILE]``, or any ASGI server
(``uvicorn --factory bm25x.app.serve:app_from_environment``).
"""

from __future__ import annotations

from bm25x.app.serve.app import create_app
from bm25x.app.serve.config import ConfigError, ServeConfig, load_config
from bm25x.app.serve.errors import WarmupError
from bm25x.app.serve.run import app_from_environment, run

__all__ = [
    "ConfigError",
    "ServeConfig",
    "WarmupError",
    "app_from_environment",
    "create_app",
    "load_config",
    "run",
]
