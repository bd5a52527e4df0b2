"""The plain, frozen records that cross stage boundaries (and nothing else does).

Offsets always index the normalized document text (`Document.text`).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """One article, its text NFC-normalized and cleaned of page boilerplate."""

    doc_id: str  # path relative to the corpus root; "FILE#id" for JSONL rows
    title: str
    text: str  # the body (title not repeated), what chunks and offsets index
    date: str | None = None  # ISO "YYYY-MM-DD" when known
    url: str | None = None
    summary: str | None = None


@dataclass(frozen=True)
class Chunk:
    """A sentence-aligned slice of one document: `doc.text[start:end] == text`."""

    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its score and the article's metadata."""

    chunk: Chunk
    score: float
    title: str
    date: str | None = None
    url: str | None = None
    lexical_score: float = 0.0
    dense_score: float = 0.0
    # the calibrated probability that this passage holds the answer (qa/relevance.py); None
    # where the retriever did not estimate it
    relevance: float | None = None
    # its article's vectors are still being computed: `dense_score` is estimated from its words
    dense_estimated: bool = False

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id

    @property
    def text(self) -> str:
        return self.chunk.text


@dataclass(frozen=True)
class Citation:
    """A passage cited by an answer, numbered [rank] in the order shown."""

    rank: int
    doc_id: str
    title: str
    text: str
    start: int  # chunk offsets in the document text
    end: int
    score: float
    date: str | None = None
    url: str | None = None
    # answer span inside `text` (None where this passage does not hold it)
    answer_start: int | None = None
    answer_end: int | None = None
    # evidence sentence inside `text`
    evidence_start: int | None = None
    evidence_end: int | None = None
    relevance: float | None = None  # see Passage.relevance

    @classmethod
    def from_passage(cls, rank: int, passage: Passage, **spans: int | None) -> Citation:
        c = passage.chunk
        return cls(
            rank=rank,
            doc_id=c.doc_id,
            title=passage.title,
            text=c.text,
            start=c.start,
            end=c.end,
            score=passage.score,
            date=passage.date,
            url=passage.url,
            relevance=passage.relevance,
            **spans,
        )


NOT_FOUND = "Không tìm thấy thông tin này trong các bài báo đã có."


@dataclass(frozen=True)
class Answer:
    """What the assistant says: an extracted span, or an explicit abstention.

    `span` is the (start, end) of `text` inside `citations[0].text`; None when abstained.
    """

    question: str
    text: str
    confidence: float
    abstained: bool
    evidence: str
    citations: tuple[Citation, ...] = field(default_factory=tuple)
    span: tuple[int, int] | None = None
    resolved_question: str | None = None  # the question after follow-up resolution
    # a question back instead of an answer: the question refers to something ("phường này")
    # that nothing earlier names; `candidates` are what the articles offer
    clarification: str | None = None
    candidates: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """The JSON shape of `qa ask --json` and of eval predictions."""
        return {
            "question": self.question,
            "resolved_question": self.resolved_question or self.question,
            "answer": "" if self.abstained else self.text,
            "message": self.clarification or (NOT_FOUND if self.abstained else self.text),
            "clarification": self.clarification,
            "candidates": list(self.candidates),
            "abstained": self.abstained,
            "confidence": round(self.confidence, 4),
            "evidence": self.evidence,
            "span": list(self.span) if self.span else None,
            "citations": [
                {
                    "rank": c.rank,
                    "doc_id": c.doc_id,
                    "title": c.title,
                    "date": c.date,
                    "url": c.url,
                    "text": c.text,
                    "start": c.start,
                    "end": c.end,
                    "score": round(c.score, 4),
                    "relevance": None if c.relevance is None else round(c.relevance, 4),
                    "answer_start": c.answer_start,
                    "answer_end": c.answer_end,
                    "evidence_start": c.evidence_start,
                    "evidence_end": c.evidence_end,
                }
                for c in self.citations
            ],
        }
