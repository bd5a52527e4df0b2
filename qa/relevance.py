"""How likely a retrieved passage is to hold the answer, as a probability a person can read.

The fusion score orders passages but means nothing on its own (its scale follows the fusion
weight, which is retuned per model). This is a logistic model over features that do not depend
on that weight: the passage's rank, its BM25 score relative to the best one and to the most a
question's terms can give, its cosine and the cosine's distance to the best one. It is fitted by
`bench/fit_relevance.py` on the licence-clean fitting sets (never a test split), per embedding
model, with a words-only model beside it for passages whose vectors are still being computed
(and for models it was not fitted for). The numbers and what made them: `qa/relevance.json`.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from embeddings import canonical_name

log = logging.getLogger(__name__)

FITTED = Path(__file__).with_name("relevance.json")
WORDS_ONLY = "words-only"
# Feature names, in the order a model's weights follow them.
DENSE_FEATURES = ("bias", "log_rank", "lexical_rel", "lexical_cover", "cosine", "cosine_gap")
WORD_FEATURES = ("bias", "log_rank", "lexical_rel", "lexical_cover")
# What a person reads for a probability (lower bounds, best first): see qa/relevance.json.
LABELS = (("rất liên quan", "high"), ("liên quan", "mid"), ("ít liên quan", "low"))


def features(rank: int, lexical: float, top_lexical: float, max_lexical: float,
             cosine: float | None = None, top_cosine: float | None = None) -> dict[str, float]:
    """`rank`: 0 for the first passage retrieved; `lexical`: its BM25 score, `top_lexical` the
    best one over the corpus, `max_lexical` the sum of the question's term weights (idf), the
    most a passage could score; `cosine` and `top_cosine`: its cosine and the best one (None
    for a words-only estimate)."""
    x = {"bias": 1.0, "log_rank": math.log1p(rank),
         "lexical_rel": lexical / top_lexical if top_lexical > 0 else 0.0,
         "lexical_cover": lexical / max_lexical if max_lexical > 0 else 0.0}
    if cosine is not None:
        x["cosine"] = cosine
        x["cosine_gap"] = (top_cosine if top_cosine is not None else cosine) - cosine
    return x


@dataclass(frozen=True)
class RelevanceModel:
    features: tuple[str, ...]
    weights: tuple[float, ...]

    def probability(self, x: dict[str, float]) -> float:
        z = sum(w * x[name] for name, w in zip(self.features, self.weights))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class Calibration:
    dense: RelevanceModel | None  # None: no fit for this embedding model
    words: RelevanceModel
    thresholds: tuple[float, float]  # "rất liên quan" from the first, "liên quan" from the second

    def probability(self, x: dict[str, float]) -> float:
        model = self.dense if self.dense is not None and "cosine" in x else self.words
        return model.probability(x)

    def label(self, probability: float) -> tuple[str, str]:
        """(Vietnamese label, CSS suffix)."""
        high, mid = self.thresholds
        return LABELS[0] if probability >= high else LABELS[1] if probability >= mid else LABELS[2]


def _model(entry: dict, expected: tuple[str, ...]) -> RelevanceModel:
    names, weights = tuple(entry["features"]), tuple(float(w) for w in entry["weights"])
    if names != expected or len(weights) != len(names):
        raise ValueError(f"{FITTED}: a model over {names}, expected {expected}: refit it with "
                         "`python bench/fit_relevance.py`")
    return RelevanceModel(names, weights)


@lru_cache(maxsize=8)
def calibration(model_name: str | None, path: Path = FITTED) -> Calibration | None:
    """The fitted relevance models for the embedding model `model_name` (None, with a warning,
    where the file is missing: passages then carry no relevance)."""
    if not path.is_file():
        log.warning("no relevance calibration at %s: run `python bench/fit_relevance.py`", path)
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    fits = data["models"]
    entry = fits.get(canonical_name(model_name))
    high, mid = data["thresholds"]["rất liên quan"], data["thresholds"]["liên quan"]
    return Calibration(_model(entry, DENSE_FEATURES) if entry else None,
                       _model(fits[WORDS_ONLY], WORD_FEATURES), (float(high), float(mid)))


