"""The `/ask` API's arguments checked for their shape before anything else runs: each wrong
shape gets its own Vietnamese message saying what was sent and what is expected, instead of
being read as something else (a string taken as a list of one-letter questions) or failing
with a generic error. What a question says is checked later (`Assistant.check_question_text`).
"""

from __future__ import annotations

from qa.errors import BadQuestionError

MAX_TURNS = 50  # the follow-up rules look at the last few turns; more is a mistake
HISTORY_EXAMPLE = '["Ai được chỉ định làm Bí thư Đảng ủy phường Kỳ Sơn?"]'


def kind_of(value) -> str:
    """What `value` is, in the words of the message: "một số", "một đối tượng (dict)"..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "một giá trị true/false"
    if isinstance(value, (int, float)):
        return f"một số ({value})"
    if isinstance(value, str):
        return "một chuỗi"
    if isinstance(value, dict):
        return "một đối tượng (dict)"
    if isinstance(value, (list, tuple)):
        return f"một danh sách {len(value)} phần tử"
    return f"một giá trị kiểu {type(value).__name__}"


def check_question_type(question) -> None:
    if not isinstance(question, str):
        raise BadQuestionError(f"Câu hỏi (question) phải là một chuỗi văn bản, không phải "
                               f"{kind_of(question)}.")


def check_history(history, max_chars: int) -> list[str | tuple[str, str | None]]:
    """Earlier turns, oldest first: each a question (str) or a [question, answer] pair (the
    answer a string or null). None is no history."""
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        raise BadQuestionError(
            "Lịch sử hội thoại (history) phải là một danh sách các câu hỏi trước, cũ nhất "
            f"trước, ví dụ {HISTORY_EXAMPLE}, hoặc [] khi không có; nhận được "
            f"{kind_of(history)}.")
    if len(history) > MAX_TURNS:
        raise BadQuestionError(f"Lịch sử hội thoại quá dài ({len(history)} lượt): chỉ cần gửi "
                               f"tối đa {MAX_TURNS} lượt gần nhất.")
    turns: list[str | tuple[str, str | None]] = []
    for n, item in enumerate(history, 1):
        if isinstance(item, str):
            question, answer = item, None
        elif (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str)
              and (item[1] is None or isinstance(item[1], str))):
            question, answer = item
        else:
            raise BadQuestionError(
                f"Mục thứ {n} của lịch sử hội thoại không hợp lệ ({kind_of(item)}): mỗi mục là "
                "một câu hỏi (chuỗi) hoặc một cặp [câu hỏi, câu trả lời] (câu trả lời là chuỗi "
                "hoặc null).")
        for what, text, limit in (("Câu hỏi", question, max_chars),
                                  ("Câu trả lời", answer or "", 4 * max_chars)):
            if len(text) > limit:
                raise BadQuestionError(f"{what} ở mục thứ {n} của lịch sử hội thoại quá dài "
                                       f"({len(text)} ký tự); giới hạn là {limit} ký tự.")
        turns.append(item if isinstance(item, str) else (question, answer))
    return turns
