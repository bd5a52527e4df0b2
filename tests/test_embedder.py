"""The default embedder (multilingual-e5-small, int8) as the app uses it: from several threads
at once, with texts longer than the model reads, and with the reader sharing its tokenizer."""

from __future__ import annotations

import threading

import numpy as np
import pytest

pytestmark = pytest.mark.slow

TEXTS = [f"Đại hội Đảng bộ phường số {i} có {100 + i} đảng viên. " * (1 + i % 12)
         for i in range(40)]


def test_threads_sharing_the_tokenizer_get_what_one_thread_gets(embedder):
    """Index builds, questions and the reader's offset calls run at the same moment in the
    app; a fast tokenizer's padding state must not leak from one call into another."""
    alone = embedder.embed_batch(TEXTS)
    counts = [embedder.count_tokens(t) for t in TEXTS]
    _, tokenizer = embedder.backbone()
    offsets = tokenizer(TEXTS[5], add_special_tokens=False, return_offsets_mapping=True)
    errors: list[BaseException] = []
    results: dict[str, list] = {"embed": [], "count": [], "offsets": []}

    def run(kind):
        try:
            for _ in range(6):
                if kind == "embed":
                    results[kind].append(embedder.embed_batch(TEXTS))
                elif kind == "count":
                    results[kind].append([embedder.count_tokens(t) for t in TEXTS])
                else:
                    results[kind].append(tokenizer(TEXTS[5], add_special_tokens=False,
                                                   return_offsets_mapping=True))
        except BaseException as e:  # noqa: BLE001 - collected for the assertion below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(k,)) for k in ("embed", "count", "offsets",
                                                                  "embed")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for got in results["embed"]:
        # int8 activations are quantized a batch at a time: the same batch, the same vectors
        assert np.allclose(got, alone, atol=1e-5)
    assert all(got == counts for got in results["count"])
    assert all(got["offset_mapping"] == offsets["offset_mapping"] for got in results["offsets"])


def test_a_text_longer_than_the_model_reads_is_embedded_whole(embedder):
    head = "Phường Kỳ Sơn có 1.789 đảng viên sinh hoạt tại 40 chi bộ trực thuộc. "
    tail = "Giải bóng đá thiếu niên khai mạc trên sân vận động tỉnh với 12 đội tham dự. "
    text = head * 40 + tail * 40
    assert embedder.count_tokens(text) > 2 * embedder.max_tokens
    whole, first, second = embedder.embed_batch([text, head * 40, tail * 40])
    # the tail is not cut off: the vector sits between the two halves' vectors
    assert whole @ second > 0.8 and whole @ first > 0.8
    assert whole @ second > first @ second + 0.02
    assert abs(float(np.linalg.norm(whole)) - 1.0) < 1e-5
