"""bench/fit_neural.py's choice between the network's answer and the rule reader's, on
made-up readings: a set's few disagreements must not outweigh another set's many; and its
spans scored as the reader serves them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import fit_neural  # noqa: E402


def rows(name: str, n: int, network_right: int, rules_right: int) -> list[dict]:
    """`n` answerable questions, all read alike (one feature, constant): the two readers
    disagree on `network_right` + `rules_right` of them."""
    out = []
    for i in range(n):
        f1, rule_f1 = 1.0, 1.0
        if i < network_right:
            rule_f1 = 0.0
        elif i < network_right + rules_right:
            f1 = 0.0
        out.append({"set": name, "id": f"{name}-{i}", "gold": ["x"], "x": [1.0, 0.0],
                    "f1": f1, "rule_f1": rule_f1})
    return out


def p_rules(w) -> float:
    return fit_neural._sigmoid(float(np.dot(w, [1.0, 0.0])))  # as apply_choice reads it


def test_a_few_disagreements_of_a_small_set_do_not_decide_the_choice():
    # 200 questions where the network is right on 100 the rules miss; a set of 20 where the
    # rules are right on 2 the network misses. Weighing the sets alike over those 102 alone
    # made the 2 weigh as much as the 100 (a coin toss); each question weighing as one of
    # its set's 20 or 200, the network's answer is preferred.
    w = fit_neural.fit_choice(rows("big", 200, 100, 0) + rows("small", 20, 0, 2))
    assert p_rules(w) < 0.3


def test_the_choice_follows_the_reader_that_is_right_more_often():
    w = fit_neural.fit_choice(rows("a", 100, 5, 40) + rows("b", 100, 10, 30))
    assert p_rules(w) > 0.7


def test_no_choice_when_only_one_reader_is_ever_right_alone():
    assert fit_neural.fit_choice(rows("a", 50, 10, 0)) is None


@pytest.mark.parametrize("span, gold, expected", [
    ("Đồng chí Bùi Thị Minh", ["Bùi Thị Minh"], 1.0),  # served without the title
    ("Bùi Thị Minh,", ["Bùi Thị Minh"], 1.0),
    ("Đồng chí Bùi Thị Minh", [], 0.0),  # unanswerable: nothing to match
    ("đồng chí", ["đồng chí"], 1.0),  # no name after it: kept as read
])
def test_a_span_is_scored_as_the_reader_serves_it(span, gold, expected):
    assert fit_neural.span_f1(span, gold) == pytest.approx(expected)
