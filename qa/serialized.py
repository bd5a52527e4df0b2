"""Model calls one at a time, in the order they come, for the app, where the index is built in
one thread while questions are answered in others."""

from __future__ import annotations

import threading
from collections import deque


class FairLock:
    """A lock that goes to the threads in the order they asked for it (reentrant for the thread
    that holds it): a question asked while the index is embedded gets the model after the
    batch under way, not after the whole build (a plain lock lets the build take it back)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._queue: deque[int] = deque()
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self):
        me = threading.get_ident()
        with self._cond:
            if self._owner == me:
                self._depth += 1
                return self
            self._queue.append(me)
            self._cond.wait_for(lambda: self._owner is None and self._queue[0] == me)
            self._queue.popleft()
            self._owner, self._depth = me, 1
        return self

    def __exit__(self, *exc):
        with self._cond:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._cond.notify_all()


class Serialized:
    """An embedder or a reader that uses the model under `lock`: the model's tokenizer is one
    object whose padding and truncation settings each call changes, so that two threads using
    it at once (the index build and a question) can get a batch padded for the other's call
    ("Unable to create tensor... expected sequence of length 50 (got 40)"). One call at a time;
    questions wait at most for one embedding batch. Everything else goes to the wrapped one."""

    def __init__(self, inner, lock: FairLock):
        object.__setattr__(self, "_inner", inner)
        object.__setattr__(self, "_lock", lock)

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def __setattr__(self, name, value):  # `term_weight` must reach the rule reader itself
        setattr(self._inner, name, value)

    def embed_batch(self, texts, *, kind: str = "passage"):
        with self._lock:
            return self._inner.embed_batch(texts, kind=kind)

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return self._inner.count_tokens(text)

    @property
    def max_tokens(self) -> int:  # counts the prefixes with the tokenizer
        with self._lock:
            return self._inner.max_tokens

    def read(self, question, passages):
        with self._lock:
            return self._inner.read(question, passages)
