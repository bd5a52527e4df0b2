"""qa/progress.py: the status line's stage, count and estimate, from the build's messages, on a
clock the test moves."""

from __future__ import annotations

from qa.index import STAGE_SAVE, STAGE_VECTORS, STAGE_WORDS
from qa.progress import IndexingProgress, remaining_text


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_stages_counts_and_an_estimate_from_the_pace_so_far():
    clock = Clock()
    p = IndexingProgress(clock)
    assert p.fraction() is None and p.describe() == "Đang chờ lập chỉ mục…"
    p.begin("start")
    assert p.describe().startswith("Đang khởi động")
    p.update(0.0, f"{STAGE_WORDS} for 1 articles")
    assert p.describe() == "Đang lập chỉ mục theo từ khóa…"
    p.update(0.0, f"{STAGE_VECTORS} 0/1200 chunks")
    clock.now += 1
    assert p.remaining() is None  # too early to tell
    p.update(0.3, f"{STAGE_VECTORS} 400/1200 chunks")
    clock.now += 29  # 400 windows in 30 s: 800 more take about 60 s
    assert abs(p.remaining() - 60.0) < 0.5
    assert p.describe() == "Đang tính vector ngữ nghĩa · 400/1.200 đoạn · còn khoảng 1 phút…"
    p.update(0.96, f"{STAGE_SAVE} the index")
    assert p.describe() == "Đang lưu chỉ mục…" and p.fraction() == 0.96
    p.end()
    assert p.fraction() is None


def test_remaining_is_said_as_a_person_says_it():
    assert remaining_text(4) == "còn khoảng 10 giây"
    assert remaining_text(44) == "còn khoảng 40 giây"
    assert remaining_text(100) == "còn khoảng 2 phút"
