"""Gradio chat over the indexed articles (start: `bash scripts/start.sh`).

Thin on purpose: build the assistant once, format answers, wire events. Logic lives in `qa/`.
"""

from __future__ import annotations

import argparse
import html
import logging
import os

import gradio as gr

from qa.assistant import Assistant
from qa.errors import QAError
from qa.settings import Settings
from qa.types import NOT_FOUND, Answer

log = logging.getLogger("qa.app")

EXAMPLES = [
    "Ai được chỉ định làm Bí thư Đảng ủy phường Kỳ Sơn nhiệm kỳ 2025-2030?",
    "Dân số phường Đoàn Kết là bao nhiêu người?",
    "ai tai dac cu bi thu dang uy phuong chi lang",
]


def format_reply(answer: Answer) -> str:
    """Markdown for the chat; every piece of article or question text is HTML-escaped."""
    esc = html.escape
    parts = []
    if answer.abstained:
        parts.append(f"**{esc(NOT_FOUND)}**")
        if answer.citations:
            parts.append("Các đoạn gần nhất:")
    else:
        parts.append(f"**{esc(answer.text)}** (độ tin cậy {answer.confidence:.0%})")
        if answer.evidence:
            parts.append(f"> {esc(answer.evidence)} [1]")
    for c in answer.citations:
        meta = " · ".join(esc(x) for x in (c.date, c.url) if x)
        snippet = esc(" ".join(c.text.split())[:300])
        parts.append(f"[{c.rank}] **{esc(c.title)}**" + (f" ({meta})" if meta else "")
                     + f"<br>{snippet}…")
    return "\n\n".join(parts)


def build_ui(bot: Assistant) -> gr.Blocks:
    def respond(message: str, history: list) -> str:
        earlier = [m["content"] for m in history if m.get("role") == "user"
                   and isinstance(m.get("content"), str)]
        try:
            return format_reply(bot.ask(message, earlier))
        except QAError as e:
            return html.escape(str(e))
        except Exception:  # never a stack trace in the chat
            log.exception("failed to answer %r", message)
            return "Đã có lỗi khi trả lời câu hỏi này. Vui lòng thử lại."

    return gr.ChatInterface(
        respond, title="Hỏi đáp tin tức tiếng Việt",
        description="Hỏi về các bài báo đã có; câu trả lời trích nguyên văn kèm nguồn [1], [2].",
        examples=EXAMPLES, concurrency_limit=4, api_name="ask")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Hỏi đáp tin tức tiếng Việt (Gradio)")
    ap.add_argument("--host", default=os.environ.get("QA_HOST", "127.0.0.1"))
    ap.add_argument("--port", type=int, default=int(os.environ.get("QA_PORT", "7860")))
    ap.add_argument("--corpus", nargs="+", default=None)
    ap.add_argument("--index-dir", default=None)
    ap.add_argument("--model", default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = Settings.from_env(corpus=tuple(args.corpus) if args.corpus else None,
                                 index_dir=args.index_dir, embedding_model=args.model)

    def progress(frac: float, msg: str) -> None:
        log.info("index %3d%% %s", int(100 * frac), msg)

    bot = Assistant.open(settings, progress=progress)
    build_ui(bot).queue(default_concurrency_limit=4).launch(
        server_name=args.host, server_port=args.port)


if __name__ == "__main__":
    main()
