"""Tests for qa/chunking.py: offsets, coverage, the token budget (with the real tokenizer on the
seeds), small overlaps and over-long sentences."""

from __future__ import annotations

import random
import re
from itertools import pairwise

import pytest

from qa.chunking import ChunkingConfig, approx_tokens, chunk_document, embedding_text
from qa.text import sentence_spans
from qa.types import Chunk, Document

WORDS = (
    "Đảng bộ phường Đoàn Kết tổ chức Đại hội đại biểu nhiệm kỳ 2025 - 2030 hơn 1.750 "
    "đảng viên diện tích 134,31km2 TP. Hồ Chí Minh TS. Nguyễn Văn A người dân xã "
    "kinh tế phát triển ổn định"
).split()


def random_document(rng: random.Random, doc_id: str = "r.txt") -> Document:
    paragraphs = []
    for _ in range(rng.randint(1, 6)):
        sentences = []
        for _ in range(rng.randint(1, 8)):
            n = rng.choice([3, 8, 15, 30, 120])  # now and then one longer than any budget
            words = [rng.choice(WORDS) for _ in range(n)]
            sentences.append(words[0].capitalize() + " " + " ".join(words[1:]) + ".")
        paragraphs.append(" ".join(sentences))
    return Document(doc_id, "Tin tức địa phương", "\n\n".join(paragraphs))


def assert_offsets(doc: Document, chunks: list[Chunk]) -> None:
    for c in chunks:
        assert c.doc_id == doc.doc_id
        assert 0 <= c.start < c.end <= len(doc.text)
        assert doc.text[c.start : c.end] == c.text
        assert c.text == c.text.strip()


def assert_covers(doc: Document, chunks: list[Chunk]) -> None:
    """Every non-space character of the text is in some chunk (so every sentence is)."""
    covered = bytearray(len(doc.text))
    for c in chunks:
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
    missing = [i for i, ch in enumerate(doc.text) if not ch.isspace() and not covered[i]]
    assert not missing, doc.text[missing[0] : missing[0] + 40]
    for a, b in sentence_spans(doc.text):
        if approx_tokens(doc.text[a:b]) <= 16:  # under any budget: never cut
            assert any(c.start <= a and b <= c.end for c in chunks)


def assert_small_overlaps(doc, chunks, count, config: ChunkingConfig) -> None:
    for prev, nxt in pairwise(chunks):
        assert prev.start < nxt.start, "chunks must move forward"
        if nxt.start < prev.end:
            shared = doc.text[nxt.start : prev.end]
            # at most the configured number of sentences, each under the overlap cap
            assert len(sentence_spans(shared)) <= config.overlap_sentences
            assert count(shared) <= config.max_overlap_tokens


SMALL = ChunkingConfig(target_tokens=40, max_tokens=254, overlap_sentences=1, max_overlap_tokens=20)


def test_random_documents_keep_offsets_coverage_and_budget():
    rng = random.Random(42)
    for n in range(150):
        doc = random_document(rng, f"r{n}.txt")
        config = rng.choice([SMALL, ChunkingConfig(), ChunkingConfig(target_tokens=24)])
        chunks = chunk_document(doc, approx_tokens, config)
        assert chunks
        assert_offsets(doc, chunks)
        assert_covers(doc, chunks)
        assert_small_overlaps(doc, chunks, approx_tokens, config)
        for c in chunks:
            assert approx_tokens(embedding_text(doc.title, c.text)) <= config.max_tokens
            assert approx_tokens(c.text) <= max(config.target_tokens, 16)


def test_short_document_is_one_chunk():
    doc = Document(
        "a.txt", "Tin ngắn", "Sáng 9/8, phường tổ chức Đại hội. Đại hội bầu 15 đồng chí."
    )
    assert chunk_document(doc) == [Chunk("a.txt", 0, len(doc.text), doc.text)]


def test_empty_text_gives_no_chunks():
    assert chunk_document(Document("e.txt", "Tiêu đề", "")) == []


def test_over_long_sentence_is_cut_at_word_boundaries():
    words = [f"từ{i}" for i in range(400)]
    text = "Mở đầu ngắn. " + " ".join(words) + ". Kết thúc."
    doc = Document("long.txt", "", text)
    config = ChunkingConfig(target_tokens=50)
    chunks = chunk_document(doc, approx_tokens, config)
    assert len(chunks) >= 400 * 2 // 50
    assert_offsets(doc, chunks)
    assert_covers(doc, chunks)
    for c in chunks:
        assert c.start == 0 or text[c.start - 1].isspace()
        assert c.end == len(text) or text[c.end].isspace()
        assert approx_tokens(c.text) <= 50
    pieces = " ".join(c.text for c in chunks)
    for w in words:  # no word is cut in two
        assert re.search(rf"(?<!\S){w}[.]?(?!\S)", pieces), w


def test_custom_token_counter_is_used():
    doc = Document("c.txt", "", " ".join(f"Câu số {i} ở đây." for i in range(20)))

    def words(text: str) -> int:  # a counter that charges one token per word
        return len(text.split())

    chunks = chunk_document(doc, words, ChunkingConfig(target_tokens=17, overlap_sentences=0))
    # twenty 5-word sentences: three a chunk, two left for the last
    assert [len(c.text.split()) for c in chunks] == [15] * 6 + [10]
    assert all(a.end <= b.start for a, b in pairwise(chunks))  # no overlap asked
    assert_covers(doc, chunks)


def test_every_chunk_adds_text_beyond_the_previous_one(seed_docs):
    # smallest case, one token a word: sentences of 5, 5 and 12 words, budget 12
    doc = Document(
        "m.txt", "", "Một hai ba bốn năm. Sáu bảy tám chín mười. " + " ".join(["Dài"] * 12)
    )
    chunks = chunk_document(doc, lambda t: len(t.split()), ChunkingConfig(target_tokens=12))
    assert all(b.end > a.end for a, b in pairwise(chunks)), chunks
    for doc in seed_docs:
        chunks = chunk_document(doc)
        for prev, nxt in pairwise(chunks):
            assert nxt.end > prev.end, (doc.doc_id, prev.start, prev.end, nxt.start, nxt.end)


def test_seed_chunks_with_the_approximate_counter(seed_docs):
    for doc in seed_docs:
        chunks = chunk_document(doc)
        assert len(chunks) > 1
        assert_offsets(doc, chunks)
        assert_covers(doc, chunks)
        assert_small_overlaps(doc, chunks, approx_tokens, ChunkingConfig())


@pytest.mark.slow
def test_seed_chunks_fit_the_real_model(seed_docs, embedder):
    """No chunk (with its title, as embedded) is silently truncated by all-MiniLM-L6-v2."""
    config = ChunkingConfig(max_tokens=embedder.max_tokens)
    for doc in seed_docs:
        chunks = chunk_document(doc, embedder.count_tokens, config)
        assert_offsets(doc, chunks)
        assert_covers(doc, chunks)
        assert_small_overlaps(doc, chunks, embedder.count_tokens, config)
        for c in chunks:
            assert embedder.count_tokens(embedding_text(doc.title, c.text)) <= embedder.max_tokens


@pytest.mark.slow
def test_random_documents_fit_the_real_model(embedder):
    rng = random.Random(5)
    config = ChunkingConfig(max_tokens=embedder.max_tokens)
    for n in range(15):
        doc = random_document(rng, f"r{n}.txt")
        chunks = chunk_document(doc, embedder.count_tokens, config)
        assert_offsets(doc, chunks)
        assert_covers(doc, chunks)
        for c in chunks:
            assert embedder.count_tokens(embedding_text(doc.title, c.text)) <= embedder.max_tokens


@pytest.mark.slow
def test_passages_are_whole_paragraphs_and_windows_fit_the_model(seed_docs, embedder):
    """BM25 sees whole paragraphs; the model reads each window whole (title included)."""
    from qa.chunking import embedding_windows, passages

    cfg = ChunkingConfig(max_tokens=embedder.max_tokens)
    for doc in seed_docs:
        paragraphs = [p for p in doc.text.split("\n\n") if p.strip()]
        got = passages(doc, embedder.count_tokens, cfg)
        assert got, doc.doc_id
        for p in got:
            assert doc.text[p.start:p.end] == p.text
            # a passage is one or more whole paragraphs (none of the seeds' is over the cap)
            assert p.text.split("\n\n")[0] in paragraphs and p.text.split("\n\n")[-1] in paragraphs
            windows = embedding_windows(doc, p, embedder.count_tokens, cfg)
            assert windows and windows[0].start == p.start and windows[-1].end == p.end
            for w in windows:
                assert doc.text[w.start:w.end] == w.text and p.start <= w.start < w.end <= p.end
                assert embedder.count_tokens(embedding_text(doc.title, w.text)) <= embedder.max_tokens
        # every paragraph is in exactly one passage
        assert sum(p.text.count("\n\n") + 1 for p in got) == len(paragraphs)


def test_a_paragraph_over_the_cap_is_cut_at_sentences():
    from qa.chunking import passages

    long_para = " ".join(f"Câu thứ {i} nói về đại hội đảng bộ phường." for i in range(200))
    doc = Document("x.txt", "Tiêu đề", "Đoạn ngắn mở đầu.\n\n" + long_para)
    cfg = ChunkingConfig(target_tokens=100, passage_max_tokens=300)
    got = passages(doc, config=cfg)
    assert got[0].text == "Đoạn ngắn mở đầu."
    assert len(got) > 3 and all(approx_tokens(p.text) <= 300 for p in got)
    assert all(p.text.endswith(".") for p in got)
