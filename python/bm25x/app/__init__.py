"""The application layer of bm25x: programs built on the library (``bm25x serve``, the inference
service for self-hosted Qdrant).

The dependency points one way: this package imports the library (``bm25x.embed``, the
providers, the errors); the library never imports this package.
"""
