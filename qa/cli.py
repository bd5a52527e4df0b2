"""`qa index | ask | eval`: the command line, and the one place (with app.py) that turns
errors into messages for people."""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
from pathlib import Path

from qa.errors import IndexCorruptError, IndexMismatchError, QAError
from qa.formatting import LOW_CONFIDENCE_HINT, confidence_level
from qa.settings import READERS, Settings

# What a person reads first about an index that must be rebuilt; the command follows, then the
# English details.
REBUILD_LEADS = {
    IndexCorruptError: "Chỉ mục tìm kiếm bị hỏng hoặc không đọc được.",
    IndexMismatchError: "Chỉ mục tìm kiếm được lập với mô hình hoặc cấu hình khác.",
}


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", nargs="+", type=Path, default=None,
                   help="article folders or files (default: seeds, or QA_CORPUS)")
    p.add_argument("--index-dir", type=Path, default=None,
                   help="index folder (default: QA_INDEX_DIR, else one per corpus under .qa/indexes)")
    p.add_argument("--model", default=None,
                   help="sentence-transformers model name or local path (QA_EMBEDDING_MODEL)")
    p.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default=None,
                   help="retrieval mode (QA_RETRIEVAL_MODE; default hybrid)")
    p.add_argument("--dense-weight", type=float, default=None,
                   help="weight of the cosine beside normalized BM25 (default: per model)")
    p.add_argument("--reader", choices=READERS, default=None,
                   help="the reader (QA_READER; default neural; rules is the fast rule reader)")
    p.add_argument("-v", "--verbose", action="store_true")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Hỏi đáp trên các bài báo tiếng Việt "
                                     "(question answering over Vietnamese news articles).")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build or update the index of a corpus")
    p.add_argument("paths", nargs="*", type=Path, help="folders or files (default: --corpus)")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything from scratch")
    _common(p)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--history", action="append", default=[],
                   help="an earlier question of the same chat (repeat, oldest first)")
    p.add_argument("-k", type=int, default=None, help="passages to cite (default 5)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    _common(p)

    p = sub.add_parser("eval", help="answer a question file and score it like score.py")
    p.add_argument("questions", type=Path)
    p.add_argument("--predictions", type=Path, default=None, help="write prediction rows here")
    p.add_argument("-k", type=int, default=None)
    _common(p)
    return parser


def _settings(args, corpus=None):
    return Settings.from_env(corpus=tuple(corpus or args.corpus or ()) or None,
                             index_dir=args.index_dir, embedding_model=args.model,
                             retrieval_mode=args.mode, dense_weight=args.dense_weight,
                             reader=args.reader)


def _progress_bar():
    from tqdm import tqdm

    bar = tqdm(total=100, desc="indexing", unit="%", file=sys.stderr, leave=False)

    def update(frac: float, message: str) -> None:
        bar.n = int(100 * frac)
        bar.set_postfix_str(message)
        bar.refresh()

    return bar, update


def _skip(path, reason):
    print(f"bỏ qua / skipped {path}: {reason}", file=sys.stderr)


def cmd_index(args) -> int:
    from qa.assistant import Assistant

    bot = Assistant(_settings(args, args.paths))
    bar, progress = _progress_bar()
    try:
        r = bot.update_index(rebuild=args.rebuild, progress=progress, on_skip=_skip)
    finally:
        bar.close()
    print(f"Index {bot.store.root}: {r.documents} articles, {r.chunks} chunks "
          f"({len(r.added)} added, {len(r.changed)} changed, {len(r.removed)} removed, "
          f"{r.unchanged} unchanged; {r.embedded_chunks} chunks embedded) in {r.seconds:.1f}s")
    if r.rebuilt_reason:
        print(f"rebuilt from scratch: {r.rebuilt_reason}", file=sys.stderr)
    return 0


def _open(args):
    """The assistant with its index, building it on first use (as the app does)."""
    from qa.assistant import Assistant

    bot = Assistant(_settings(args))
    corpus = ", ".join(map(str, bot.settings.corpus))
    if bot.store.exists():
        try:
            bot.load()
            return bot
        except IndexMismatchError as e:
            print(f"qa: {REBUILD_LEADS[IndexMismatchError]} Đang lập lại chỉ mục từ {corpus}.\n"
                  f"    ({e})", file=sys.stderr)
    else:
        print(f"no index at {bot.store.root} yet: building it from {corpus}", file=sys.stderr)
    bar, progress = _progress_bar()
    try:
        bot.update_index(progress=progress, on_skip=_skip)
    finally:
        bar.close()
    return bot


def format_answer(answer) -> str:
    lines = []
    if answer.clarification:
        lines.append(answer.clarification)
        lines.extend(f"  - {c}" for c in answer.candidates)
        return "\n".join(lines)
    if answer.abstained:
        lines.append("Không tìm thấy thông tin này trong các bài báo đã có.")
        if answer.citations:
            lines.append("Các đoạn gần nhất:")
    else:
        lines.append(f"Trả lời: {answer.text}   (độ tin cậy {answer.confidence:.0%})")
        if confidence_level(answer.confidence)[1] == "low":
            lines.append(LOW_CONFIDENCE_HINT)
        if answer.evidence:
            lines.append(f"Căn cứ: {answer.evidence} [1]")
    for c in answer.citations:
        meta = ", ".join(x for x in (c.date, c.url) if x)
        lines.append(f"[{c.rank}] {c.title}" + (f" ({meta})" if meta else ""))
        lines.append("    " + " ".join(c.text.split())[:400])
    return "\n".join(lines)


def cmd_ask(args) -> int:
    from qa.assistant import Assistant

    limit = _settings(args).max_question_chars
    Assistant.check_question_text(args.question, limit)  # before any index is built
    bot = _open(args)
    answer = bot.ask(args.question, args.history, k=args.k)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=1))
    else:
        print(format_answer(answer))
    return 0


def cmd_eval(args) -> int:
    from qa.evaluation import predict, read_jsonl, score, write_jsonl

    rows = read_jsonl(args.questions)
    bot = _open(args)
    preds = predict(rows, lambda q, h: bot.ask(q, h, k=args.k))
    if args.predictions:
        write_jsonl(preds, args.predictions)
    print(json.dumps(score(preds, rows), ensure_ascii=False))
    return 0


COMMANDS = {"index": cmd_index, "ask": cmd_ask, "eval": cmd_eval}


def rebuild_command(args) -> str:
    """The `qa index --rebuild` line that repairs the index these arguments use."""
    settings = _settings(args, getattr(args, "paths", None))
    model = ["--model", args.model] if args.model else []
    return shlex.join(["qa", "index", "--rebuild", *model, "--index-dir",
                       str(settings.index_dir), *map(str, settings.corpus)])


def error_message(err: QAError, args) -> str:
    lead = next((text for kind, text in REBUILD_LEADS.items() if isinstance(err, kind)), None)
    if lead is None:
        return f"qa: {err}"
    return (f"qa: {lead} Hãy lập lại chỉ mục bằng lệnh:\n    {rebuild_command(args)}\n"
            f"    ({err})")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except QAError as e:
        print(error_message(e, args), file=sys.stderr)
        return 2
    except ValueError as e:  # bad settings values (e.g. QA_TOP_K=abc)
        print(f"qa: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
