"""Where an index update is, said the way the status line says it: the stage, how far, and
about how long is left (from the pace of the stage so far)."""

from __future__ import annotations

import re
import threading
import time

from qa.index import STAGE_SAVE, STAGE_VECTORS, STAGE_WORDS

STAGES = {
    "start": "Đang khởi động: nạp mô hình và đọc các bài báo",
    "words": "Đang lập chỉ mục theo từ khóa",
    "vectors": "Đang tính vector ngữ nghĩa",
    "save": "Đang lưu chỉ mục",
}
_COUNT = re.compile(r"(\d+)/(\d+)")


def remaining_text(seconds: float) -> str:
    """`còn khoảng 40 giây`, `còn khoảng 3 phút`: rounded the way a person says it."""
    if seconds < 60:
        return f"còn khoảng {max(10, round(seconds / 10) * 10)} giây"
    return f"còn khoảng {round(seconds / 60)} phút"


class IndexingProgress:
    """Fed by the build's progress callback (fraction, message); read by the status line."""

    def __init__(self, clock=time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self.stage: str | None = None
        self._frac = 0.0
        self._since: tuple[float, float] | None = None  # (time, fraction) the stage began at
        self._count: tuple[int, int] | None = None

    def begin(self, stage: str) -> None:
        with self._lock:
            self.stage, self._frac, self._count = stage, 0.0, None
            self._since = (self._clock(), 0.0)

    def end(self) -> None:
        with self._lock:
            self.stage = None

    def update(self, frac: float, message: str) -> None:
        stage = ("words" if message.startswith(STAGE_WORDS) else
                 "vectors" if message.startswith(STAGE_VECTORS) else
                 "save" if message.startswith(STAGE_SAVE) else None)
        with self._lock:
            if stage is not None and stage != self.stage:
                self.stage, self._since = stage, (self._clock(), frac)
            self._frac = frac
            m = _COUNT.search(message)
            self._count = (int(m.group(1)), int(m.group(2))) if m and stage == "vectors" else None

    def fraction(self) -> float | None:
        with self._lock:
            return None if self.stage is None else self._frac

    def remaining(self) -> float | None:
        """Seconds left in the vectors stage, once it has run long enough to tell."""
        with self._lock:
            if self.stage != "vectors" or self._since is None:
                return None
            started, first = self._since
            spent, done = self._clock() - started, self._frac - first
            if spent < 3 or done <= 0:
                return None
            return spent * max(0.9 - self._frac, 0.0) / done

    def describe(self) -> str:
        with self._lock:
            stage, count = self.stage, self._count
        if stage is None:
            return "Đang chờ lập chỉ mục…"
        parts = [STAGES[stage]]
        if stage == "vectors" and count:
            parts.append(f"{count[0]:,}/{count[1]:,} đoạn".replace(",", "."))
        left = self.remaining()
        if left is not None:
            parts.append(remaining_text(left))
        return " · ".join(parts) + "…"
