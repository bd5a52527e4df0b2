"""A question back, instead of an answer about something picked at random.

"Phường này có bao nhiêu đảng viên?" asked first, with nothing earlier to say which ward, gets
"Bạn hỏi về phường nào?" with the wards the articles found for the question offer; "Ông ấy…",
the people they name; "ở đó", the places. Replying with one of them completes the question
(`qa.conversation`).
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.conversation import Reference, mentions
from qa.types import Answer, Passage

MAX_CANDIDATES = 6
_PLACE_KINDS = {"phuong", "xa", "tinh", "huyen", "quan", "thanh pho", "thi xa", "thi tran",
                "ban", "thon", "to dan pho"}
# first words of the place types as articles write them (accent folding alone would take the
# name "Phương" for "phường" and "Ban" for "bản")
_ACCENTED = {"phường", "xã", "tỉnh", "huyện", "quận", "thành", "thị", "bản", "thôn", "tổ",
             "đảng", "chi", "khóa", "khoá", "nhiệm"}


def _names(ref: Reference, text: str) -> list[str]:
    if ref.kind == "person":
        from qa.reader.candidates import organizations, people, places

        taken = [(c.start, c.end) for c in places(text) + organizations(text)]
        return [text[c.start:c.end] for c in people(text)
                if c.strength >= 0.85  # starts with a known surname
                and not any(a <= c.start and c.end <= b for a, b in taken)]
    wanted = _PLACE_KINDS if ref.kind == "place" else {ref.kind}
    out = []
    for m in mentions(text):
        words = m.text.split()
        # the type word as written ("phường", not the name "PHƯƠNG" nor "Ban" of "Ban Thường vụ")
        if m.kind in wanted and words[0].lower() in _ACCENTED and not words[-1].isupper():
            out.append(m.text[:1].lower() + m.text[1:])  # "Phường Kỳ Sơn" -> "phường Kỳ Sơn"
    return out


def candidates(ref: Reference, passages: Sequence[Passage], limit: int = MAX_CANDIDATES
               ) -> list[str]:
    """What `ref` may mean, from the passages (best first): their titles, then their text."""
    seen: dict[str, str] = {}
    for p in passages:
        for name in _names(ref, p.title) + _names(ref, p.text):
            seen.setdefault(" ".join(name.lower().split()), name)
            if len(seen) >= limit:
                return list(seen.values())
    return list(seen.values())


def clarification(question: str, ref: Reference, passages: Sequence[Passage]) -> Answer:
    """The question back: which one, with the candidates and how to reply."""
    found = candidates(ref, passages)
    subject = "ai" if ref.kind == "person" else f"{ref.noun} nào"
    noun = "người" if ref.kind == "person" else ref.noun
    text = f"Bạn hỏi về {subject}? Cuộc trò chuyện chưa nhắc tới {noun} nào trước đó."
    if found:
        example = question.replace(ref.text, found[0], 1)
        if question.startswith(ref.text):
            example = example[:1].upper() + example[1:]
        text += (f" Các bài báo có nói tới những {noun} dưới đây: hãy trả lời bằng một tên, "
                 f"hoặc hỏi lại kèm tên, ví dụ: “{example}”")
    else:
        text += f" Hãy hỏi lại kèm tên {noun} cụ thể."
    return Answer(question, "", 0.0, True, "", (), None, clarification=text,
                  candidates=tuple(found))
