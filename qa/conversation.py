"""Follow-up questions resolved with the chat history, before retrieval.

"Phường này có bao nhiêu đảng viên?" after a question about phường Kỳ Sơn becomes
"Phường Kỳ Sơn có bao nhiêu đảng viên?"; "Còn phường Đoàn Kết thì sao?" re-asks the previous
question with phường Đoàn Kết in place of phường Kỳ Sơn; "đồng chí đó" becomes the person the
previous answer named. Matching runs on accent-folded text, which has the same offsets as the
original, so questions typed without diacritics resolve the same way.

A reference that nothing earlier resolves ("Phường này…" as the first question) is reported by
`unresolved_reference`, so that the app asks which one is meant (`qa/clarify.py`) rather than
answer about one at random; a short reply that names it ("phường Kỳ Sơn") then completes the
question that was left open.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from qa.text import ADMIN_LEVELS, POSTS, UPPER, fold_accents, is_accented_query

_TYPES = ("thành phố", "thị xã", "thị trấn", "tổ dân phố", "phường", "xã", "tỉnh", "huyện",
          "quận", "bản", "thôn", "đảng bộ", "đảng ủy", "chi bộ", "khóa", "khoá", "nhiệm kỳ")
_TYPE_RE = "|".join(re.escape(fold_accents(t)) for t in _TYPES)
_TYPES_WRITTEN = frozenset(_TYPES + ("đảng uỷ",))
_UP = f"[{UPPER}]"
_NAME_CAP = rf"(?:{_UP}[\w]*(?:\s+{_UP}[\w]*)*|[IVXLCDM]+\b|\d{{4}}\s*-\s*\d{{4}})"
_DEMONSTRATIVE = r"(?:này|đó|ấy|nói trên|trên|vừa nêu|kể trên)"
_DEMO_F = fold_accents(_DEMONSTRATIVE)
_PERSON_WORDS = r"(?:đồng chí|ông|bà|người|vị|cán bộ)\s+(?:này|đó|ấy|nói trên|vừa nêu)"
_PLACE_WORDS = r"(?:ở|tại|nơi)\s+(?:đó|đấy|ấy)"
_PERSON_PRONOUN = re.compile(fold_accents(rf"(?<!\w){_PERSON_WORDS}(?!\w)"), re.I)
_PLACE_ADVERB = re.compile(fold_accents(rf"(?<!\w){_PLACE_WORDS}(?!\w)"), re.I)
_TYPED_DEMO = re.compile(rf"(?<!\w)({_TYPE_RE})\s+{_DEMO_F}(?!\w)")
# The same words with their diacritics: a reference written with accents must be one of them
# ("người đỡ đầu" and "bản đồ" fold to "nguoi do", "ban do" but point at nothing)
_WRITTEN = re.compile("|".join((
    rf"(?:{'|'.join(map(re.escape, _TYPES + ('đảng uỷ',)))})\s+{_DEMONSTRATIVE}",
    _PERSON_WORDS, _PLACE_WORDS)))
_ELSE_RE = re.compile(
    fold_accents(r"^\s*(?:(?:còn|thế còn|vậy còn|vậy|thế)\s+)?(.+?)\s+(?:thì sao|thì thế nào|thì như thế nào"
                 r"|thì sao nhỉ|thế nào)\s*\??\s*$|^\s*(?:còn|thế còn|vậy còn)\s+(.+?)\s*\??\s*$"),
    re.I)


@dataclass(frozen=True)
class Reference:
    """Words of a question that point at something said before: "phường này" (kind: the
    folded type word), "ông ấy" ("person"), "ở đó" ("place")."""

    kind: str
    text: str  # as written
    noun: str  # what to ask about: "phường", "người", "nơi"


@dataclass(frozen=True)
class Mention:
    kind: str  # the folded type word ("phuong"), or "" for a bare name
    text: str  # as written, type word included


def mentions(question: str) -> list[Mention]:
    """Typed names in a question, in order: "phường Kỳ Sơn", "khóa XVII", "tỉnh Lai Châu"."""
    folded = fold_accents(question).lower()
    accented = is_accented_query(question)
    out = []
    for m in re.finditer(rf"(?<!\w)({_TYPE_RE})\s+", folded):
        if accented and question[m.start(1):m.end(1)].lower() not in _TYPES_WRITTEN:
            continue  # "Ban Chấp hành" is no "bản", in a question typed with diacritics
        rest = question[m.end():]
        cap = re.match(_NAME_CAP, rest)
        if cap:
            name = cap.group()
        elif not any(c.isupper() for c in question[1:]):  # typed all lower case
            words = re.match(r"(?:\w+\s+){0,1}\w+", rest)
            name = words.group() if words else ""
            if re.fullmatch(_DEMO_F, fold_accents(name.split()[0]).lower() if name else ""):
                name = ""
        else:
            name = ""
        if name:
            out.append(Mention(m.group(1), question[m.start():m.end()] + name))
    return out


def _last_person(history: Sequence[tuple[str, str | None]]) -> str | None:
    """The person named last: in an answer when it is a person's name, else in the question
    (a name found by the surname rule first; never a place or an organisation)."""
    for q, a in reversed(history):
        if a and a.strip():
            name = _person_answer(q, a.strip())
            if name:
                return name
        name = _person_in(q)
        if name:
            return name
    return None


def _person_answer(question: str, answer: str) -> str | None:
    """The answer as a person's name ("Bà Giàng Páo Mỷ" → "Giàng Páo Mỷ"), or None for a
    number, a place, anything else. Names without a known surname count only as the answer
    to a question that asked for a person."""
    from qa.reader.candidates import CAP_RUN_RE, people  # the reader's name rules
    from qa.reader.question import PERSON, analyze

    if len(answer.split()) > 5 or any(ch.isdigit() for ch in answer):
        return None
    for text in (answer, "Ông " + answer):
        strong = [c for c in people(text) if c.strength >= _SURNAME_RULE]
        if strong:
            return text[strong[0].start:strong[0].end]
    if analyze(question).answer_type == PERSON and CAP_RUN_RE.fullmatch(answer):
        return answer
    return None


def _person_in(question: str) -> str | None:
    """The person a question names: the last one found by the surname rule, else the last
    weaker capitalised run that is not part of a place or an organisation ("Tỉnh ủy Lai Châu")."""
    from qa.reader.candidates import organizations, people, places

    found = people(question)
    strong = [c for c in found if c.strength >= _SURNAME_RULE]
    if strong:
        return question[strong[-1].start:strong[-1].end]
    taken = [(c.start, c.end) for c in places(question) + organizations(question)]
    weak = [c for c in found if not any(a <= c.start and c.end <= b for a, b in taken)]
    if weak:
        return question[weak[-1].start:weak[-1].end]
    return None


_SURNAME_RULE = 0.85  # strength of a name that starts with a known surname (qa/candidates.py)


def refers_to_person(question: str) -> bool:
    return _PERSON_PRONOUN.search(fold_accents(question).lower()) is not None


def _substitute(frame: str, new: Mention) -> str:
    """The frame question with its mention of the same kind replaced by `new`."""
    ms = mentions(frame)
    same = [m for m in ms if m.kind == new.kind] or ms
    if not same:
        return f"{frame.rstrip(' ?')} ({new.text})?"
    old = same[-1]
    i = frame.rfind(old.text)
    return _replace(frame, i, i + len(old.text), new.text)


def _replace(frame: str, a: int, b: int, new: str) -> str:
    """`frame` with frame[a:b] replaced by `new`, capitalised where the question starts with
    it and was written with a capital."""
    if a == 0 and frame[:1].isupper():
        new = new[:1].upper() + new[1:]
    return frame[:a] + new + frame[b:]


def resolve_followup(question: str, history: Sequence[str | tuple[str, str | None]] = ()) -> str:
    """The question as it would read on its own, given earlier turns (oldest first).

    A turn is a question, or a (question, answer) pair when the answer is known.
    """
    return _resolve_one(question, _resolved_turns(history))


def _resolved_turns(history: Sequence[str | tuple[str, str | None]]
                    ) -> list[tuple[str, str | None]]:
    """Each earlier turn as (question as it reads on its own, answer or None), resolved in
    order: a follow-up is read after the turns before it."""
    resolved: list[tuple[str, str | None]] = []
    for h in history:
        q, a = (h, None) if isinstance(h, str) else (h[0], h[1])
        resolved.append((_resolve_one(q, resolved), a))
    return resolved


def _references(q: str) -> list[Reference]:
    folded = fold_accents(q).lower()
    out = [Reference(m.group(1), q[m.start():m.end()], q[m.start(1):m.end(1)].lower())
           for m in _TYPED_DEMO.finditer(folded)]
    out += [Reference("person", q[m.start():m.end()], "người")
            for m in _PERSON_PRONOUN.finditer(folded)]
    out += [Reference("place", q[m.start():m.end()], "nơi") for m in _PLACE_ADVERB.finditer(folded)]
    return [r for r in out if _as_written(r.text)]


def _as_written(text: str) -> bool:
    """A reference typed without diacritics is taken as folded; one typed with them must be
    the accented words themselves."""
    return text == fold_accents(text) or _WRITTEN.fullmatch(text.lower()) is not None


def _unresolved(q: str, history: list[tuple[str, str | None]]) -> Reference | None:
    prior = [m for h, _ in history for m in mentions(h)]
    for ref in _references(q):
        if ref.kind == "person":
            if _last_person(history) is None:
                return ref
        elif ref.kind == "place":
            if not prior and not mentions(q):
                return ref
        elif not any(p.kind == ref.kind for p in prior):
            return ref
    return None


def unresolved_reference(question: str,
                         history: Sequence[str | tuple[str, str | None]] = ()) -> Reference | None:
    """The reference in `question` that the earlier turns do not resolve, if there is one.

    "Đồng chí đó" after a question whose answer is not given (a plain string turn) is not
    reported: the assistant answers that question first and takes the person it names."""
    ref = _unresolved(" ".join(question.split()), _resolved_turns(history))
    if ref is not None and ref.kind == "person" and history and isinstance(history[-1], str):
        return None
    return ref


def _naming_reply(q: str, ref: Reference) -> str | None:
    """What a short reply names for the open reference `ref` ("phường Kỳ Sơn", "Kỳ Sơn",
    "ông Hoàng Văn Minh"), or None when it is not such a reply."""
    words = q.rstrip(" ?.!").split()
    if not words or len(words) > 6:
        return None
    if ref.kind == "person":
        return _person_in(q) or (q.rstrip(" ?.!") if q[:1].isupper() else None)
    found = [m for m in mentions(q) if ref.kind == "place" or m.kind == ref.kind]
    if found:
        return found[0].text
    name = q.rstrip(" ?.!")
    # "Kỳ Sơn" for "phường này" is phường Kỳ Sơn; so is "ky son" in a chat typed in lower case
    if ref.kind != "place" and (re.fullmatch(_NAME_CAP, name) or (
            not any(c.isupper() for c in q + ref.text) and len(words) <= 4)):
        return f"{ref.noun} {name}"
    return None


def _resolve_one(question: str, history: list[tuple[str, str | None]]) -> str:
    q = " ".join(question.split())
    if not history or not q:
        return q
    # "phường Kỳ Sơn" after "Phường này có bao nhiêu đảng viên?" was asked with nothing to
    # refer to (and so answered with a question back): the open question, completed
    open_ref = _unresolved(history[-1][0], history[:-1])
    named = _naming_reply(q, open_ref) if open_ref is not None else None
    if named:
        frame = history[-1][0]
        i = frame.find(open_ref.text)
        return _replace(frame, i, i + len(open_ref.text), named)
    folded = fold_accents(q).lower()
    prior = [m for h, _ in history for m in mentions(h)]

    # "Còn phường Đoàn Kết thì sao?": the previous question about another place
    m = _ELSE_RE.match(folded)
    if m:
        g = 1 if m.group(1) else 2
        target = q[m.start(g):m.end(g)]
        frame = history[-1][0]
        other = _other_slot(frame, target)
        if other is not None:
            return other
        new = mentions(target)
        new_m = new[0] if new else Mention("", target)
        if new_m.kind == "":
            ms = mentions(frame)
            if ms:
                old = ms[-1]
                kept = old.text[: len(old.text) - len(old.text.split(maxsplit=1)[-1])] if " " in old.text else ""
                new_m = Mention(old.kind, kept + target)
        return _substitute(frame, new_m)

    # "đồng chí đó", "ông ấy": the person named last
    pm = next((m for m in _PERSON_PRONOUN.finditer(folded)
               if _as_written(q[m.start():m.end()])), None)
    if pm:
        person = _last_person(history)
        if person:
            return q[: pm.start()] + person + q[pm.end():]

    # "phường này", "khóa này": the last mention of that kind
    changed = False
    for dm in reversed(list(_TYPED_DEMO.finditer(folded))):
        if not _as_written(q[dm.start():dm.end()]):
            continue
        same = [p for p in prior if p.kind == dm.group(1)]
        if same:
            text = same[-1].text
            # the case of the words replaced: "Phường Kỳ Sơn" asked first, "bản đồ phường này"
            text = (str.upper if q[dm.start()].isupper() else str.lower)(text[0]) + text[1:]
            q = q[: dm.start()] + text + q[dm.end():]
            changed = True
    if changed:
        return q

    # no name of its own: carry the last place or organisation over
    if not mentions(q) and prior and not _has_proper_name(q):
        return f"{q.rstrip(' ?')} ({prior[-1].text})?"
    return q


# The counted noun of "bao nhiêu hộ kinh doanh cá nhân đang hoạt động": up to a function word,
# a verb of state, a name or the end
_COUNT_NOUN = re.compile(fold_accents(
    r"(?<!\w)(?:bao nhiêu|mấy)\s+((?:(?!(?:đang|được|đã|sẽ|là|có|trong|tại|ở|của|với|cho|từ|đến"
    r"|vào|khi|thì|hiện|nay|so|năm|tham gia|chiếm|đạt)(?!\w))[^\W\d_]+[\s,]*){1,6})"))
_TITLES = fold_accents(r"(?:ông|bà|đồng chí|anh|chị)\s+")  # before a person's name


# A post and the body it is a post of: "Phó Bí thư Thường trực Tỉnh ủy", "Chủ tịch UBND"
_POST = fold_accents(rf"(?:(?:phó|tổng)\s+)?(?:{'|'.join(POSTS)})(?:\s+thường trực)?")
_LEVEL = fold_accents(rf"(?:{'|'.join(ADMIN_LEVELS)})")
_BODY = fold_accents(r"\s+(?:tỉnh ủy|tỉnh uỷ|thành ủy|thành uỷ|huyện ủy|huyện uỷ|quận ủy|quận uỷ"
                     r"|đảng ủy|đảng uỷ|hđnd|ubnd|ubkt|ubmttq|hội đồng nhân dân|ủy ban nhân dân"
                     r"|ủy ban kiểm tra|ủy ban mặt trận tổ quốc)(?!\w)")


def _other_post(frame: str, target: str) -> str | None:
    """"Thế còn Phó Bí thư Thường trực Tỉnh ủy?" after "Ai là Bí thư Tỉnh ủy Lào Cai?": the
    frame with the post swapped ("Ai là Phó Bí thư Thường trực Tỉnh ủy Lào Cai?"); the body
    kept where X names none ("phó bí thư" for "Bí thư" of "Bí thư Đảng ủy phường X")."""
    t_fold = fold_accents(target).lower()
    asked = re.fullmatch(rf"({_POST})((?:{_BODY})?(?:\s+{_LEVEL})?)", t_fold)
    f_fold = fold_accents(frame).lower()
    if asked is None or not re.search(r"(?<!\w)ai(?!\w)", f_fold):
        return None  # a post in apposition ("Ông X, Bí thư Tỉnh ủy, phát biểu gì?") stays
    post = re.search(rf"(?<!\w){_POST}(?!\w)", f_fold)
    if post is None:
        return None
    end = post.end()
    body = re.match(_BODY, f_fold[end:])
    if asked.group(2):
        end += body.end() if body else 0
        level = re.match(rf"\s+({_LEVEL})(?!\w)", f_fold[end:])
        wanted = re.search(rf"\s({_LEVEL})$", asked.group(2))
        if level and wanted and level.group(1) == wanted.group(1):
            end += level.end()  # "UBND thị trấn" for "UBND thị trấn Sa Pa": the level once
    elif body and _base(asked.group(1)) != _base(post.group()):
        return None  # "chủ tịch" alone is no post of the frame's "Tỉnh ủy"
    return _replace(frame, post.start(), end, target)


def _base(post: str) -> str:
    """"phó bí thư thường trực" → "bi thu" (folded)."""
    return re.sub(r"^(?:pho|tong)\s+|\s+thuong truc$", "", post)


def _other_slot(frame: str, target: str) -> str | None:
    """"Còn X thì sao?" where X is not a place in the frame's place slot: the frame with X in
    the slot it fills, or None to take X as a place. X can be a person with a title ("ông
    Hoàng Văn Minh" for the person the frame names), a name after the same common noun as one
    of the frame's ("dân tộc Dao" for "dân tộc Mường"), or, where the chat writes names with
    capitals and X has none, a thing counted ("doanh nghiệp" for the counted "hộ kinh doanh
    cá nhân" of "bao nhiêu hộ kinh doanh cá nhân đang hoạt động"; the frame with X in brackets
    where nothing is counted)."""
    swapped = _other_post(frame, target)
    if swapped is not None:
        return swapped
    t_fold = fold_accents(target).lower()
    f_fold = fold_accents(frame).lower()
    titled = re.match(_TITLES, t_fold)
    if titled and re.search(_NAME_CAP, target):
        old = _person_in(frame)
        if old:
            i = frame.rfind(old)
            title = re.search(_TITLES + "$", f_fold[:i])
            a = title.start() if title else i
            return _replace(frame, a, i + len(old), target if title else target[titled.end():])
        return None
    head = re.match(rf"^((?:[^\W\d_]+\s+){{1,3}}?)({_NAME_CAP})(?:\s+(?:và|hoặc|với)\s.*)?$", target)
    named = mentions(target)
    if head and not head.group(1)[:1].isupper() and not named:
        noun = fold_accents(head.group(1)).lower()
        at = None
        for hit in re.finditer(rf"(?<!\w){re.escape(noun.strip())}\s+", f_fold):
            name = re.match(_NAME_CAP, frame[hit.end():])
            if name:
                at = (hit.start(), hit.end() + name.end())
                break
        return _replace(frame, *at, target) if at else None
    if not any(c.isupper() for c in frame[1:]) or any(c.isupper() for c in target) or named and any(
            m.kind == named[0].kind for m in mentions(frame)):
        return None
    counted = _COUNT_NOUN.search(f_fold)
    if counted:
        a, b = counted.span(1)
        while b > a and frame[b - 1] in " ,":
            b -= 1
        return frame[:a] + target + frame[b:]
    return f"{frame.rstrip(' ?')} ({target})?"


def _has_proper_name(q: str) -> bool:
    words = q.split()[1:]
    return any(w[:1].isupper() for w in words)
