"""What every reader shares: the `Reader` protocol and the two shapes of an `Answer` (a span
copied from a passage, cited first, or an explicit "not found" with the nearest passages)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from qa.types import NOT_FOUND, Answer, Citation, Passage


class Reader(Protocol):
    def read(self, question: str, passages: Sequence[Passage]) -> Answer: ...


def extracted(question: str, passages: Sequence[Passage], best: int, span: tuple[int, int],
              evidence: tuple[int, int], confidence: float) -> Answer:
    """The answer `passages[best].text[span]`, its passage cited first ([1]) with the answer
    and evidence offsets, the other passages after it in retrieval order."""
    (a, b), (sa, sb) = span, evidence
    order = [best] + [i for i in range(len(passages)) if i != best]
    cites = tuple(
        Citation.from_passage(n + 1, passages[i], **(
            dict(answer_start=a, answer_end=b, evidence_start=sa, evidence_end=sb)
            if i == best else {}))
        for n, i in enumerate(order))
    text = passages[best].text
    return Answer(question, text[a:b], confidence, False, text[sa:sb], cites, (a, b))


def abstain(question: str, passages: Sequence[Passage], confidence: float = 0.0) -> Answer:
    """"Not found", with the nearest passages still cited."""
    cites = tuple(Citation.from_passage(i + 1, p) for i, p in enumerate(passages))
    return Answer(question, NOT_FOUND, confidence, True, "", cites, None)
