"""One `Settings` object, built from explicit arguments over `QA_*` environment variables."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from embeddings import DEFAULT_MODEL
from qa.corpus import MAX_FILE_MB

INDEX_HOME = Path(".qa") / "indexes"
READERS = ("neural", "rules")


def default_index_dir(corpus: tuple[Path, ...]) -> Path:
    """One index per corpus, so evaluating on another corpus never clobbers the app's index."""
    resolved = "|".join(sorted(str(Path(p).expanduser().resolve()) for p in corpus))
    slug = "-".join(sorted(Path(p).name or "corpus" for p in corpus))[:40]
    return INDEX_HOME / f"{slug}-{hashlib.sha1(resolved.encode()).hexdigest()[:8]}"


def _env(name: str, cast, default):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return cast(raw)
    except ValueError as e:
        raise ValueError(f"{name}={raw!r} is not a valid {cast.__name__}") from e


def _paths(raw: str) -> tuple[Path, ...]:
    return tuple(Path(p) for p in raw.split(os.pathsep) if p)


@dataclass(frozen=True)
class Settings:
    corpus: tuple[Path, ...] = (Path("seeds"),)
    index_dir: Path | None = None  # None: derived from the corpus (see default_index_dir)
    embedding_model: str = DEFAULT_MODEL
    embedding_precision: str = "int8"  # int8 | float32 (see embeddings/embedder.py)
    dense_weight: float | None = None  # None: the model registry's weight
    retrieval_mode: str = "hybrid"  # hybrid | bm25 | dense
    top_k: int = 5
    chunk_tokens: int = 250
    dense_index: str = "auto"  # auto | flat | hnsw
    reader: str = "neural"  # neural | rules (see qa/reader/)
    reader_model: str | None = None  # a local Hugging Face QA model; overrides `reader`
    abstain_threshold: float | None = None  # None: the reader's calibrated default
    batch_size: int = 32
    max_question_chars: int = 1000
    max_file_mb: float = MAX_FILE_MB  # a larger .txt/.md file is skipped, not read
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.reader not in READERS:
            raise ValueError(f"QA_READER must be one of {', '.join(READERS)}, not {self.reader!r}")
        object.__setattr__(self, "corpus", tuple(Path(p) for p in self.corpus))
        if self.index_dir is None:
            object.__setattr__(self, "index_dir", default_index_dir(self.corpus))
        else:
            object.__setattr__(self, "index_dir", Path(self.index_dir))
    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """`QA_*` variables, then explicit overrides (None means 'not given')."""
        values = dict(
            corpus=_env("QA_CORPUS", _paths, cls.corpus),
            index_dir=_env("QA_INDEX_DIR", Path, None),
            embedding_model=_env("QA_EMBEDDING_MODEL", str, cls.embedding_model),
            embedding_precision=_env("QA_EMBEDDING_PRECISION", str, cls.embedding_precision),
            dense_weight=_env("QA_DENSE_WEIGHT", float, None),
            retrieval_mode=_env("QA_RETRIEVAL_MODE", str, cls.retrieval_mode),
            top_k=_env("QA_TOP_K", int, cls.top_k),
            chunk_tokens=_env("QA_CHUNK_TOKENS", int, cls.chunk_tokens),
            dense_index=_env("QA_DENSE_INDEX", str, cls.dense_index),
            reader=_env("QA_READER", str, cls.reader),
            reader_model=_env("QA_READER_MODEL", str, None),
            abstain_threshold=_env("QA_ABSTAIN_THRESHOLD", float, None),
            batch_size=_env("QA_BATCH_SIZE", int, cls.batch_size),
            max_file_mb=_env("QA_MAX_FILE_MB", float, cls.max_file_mb),
            max_question_chars=_env("QA_MAX_QUESTION_CHARS", int, cls.max_question_chars),
        )
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
