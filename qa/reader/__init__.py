"""The reader family: turning retrieved passages into an `Answer`.

- `question`, `candidates`, `features`: question analysis, typed candidate spans, features
- `rules`: the rule reader (candidates scored by a fitted logistic model)
- `network`, `neural`: the neural span reader on the multilingual-e5-small backbone
- `training_data`, `train`: how the neural reader's weights were made (rerunnable on a CPU)
- `transformer`: any local Hugging Face QA model (`QA_READER_MODEL`)
- `weights/`: what fitting and training produced, each with what made it
"""

from __future__ import annotations

from qa.reader.base import Reader, abstain, extracted
from qa.settings import Settings

__all__ = ["Reader", "abstain", "extracted", "make_reader"]


def make_reader(settings: Settings, embedder=None) -> Reader:
    """The configured reader; the neural one shares `embedder`'s backbone where it can."""
    if settings.reader_model:
        from qa.reader.transformer import TransformerReader

        return TransformerReader(settings.reader_model, settings.abstain_threshold)
    if settings.reader == "neural":
        from qa.reader.neural import NeuralReader

        return NeuralReader(embedder, abstain_threshold=settings.abstain_threshold)
    from qa.reader.rules import RuleReader

    return RuleReader(abstain_threshold=settings.abstain_threshold)
