"""Embedding models behind one small protocol (`Embedder.embed_batch`)."""

from embeddings.embedder import Embedder, SentenceTransformerEmbedder, resolve_model_path
from embeddings.models import (
    DEFAULT_MODEL,
    KNOWN_MODELS,
    MINILM,
    ModelSpec,
    canonical_name,
    spec_for,
)

__all__ = [
    "DEFAULT_MODEL",
    "KNOWN_MODELS",
    "MINILM",
    "Embedder",
    "ModelSpec",
    "SentenceTransformerEmbedder",
    "canonical_name",
    "resolve_model_path",
    "spec_for",
]
