"""Gradio chat over the indexed articles (start: `python app.py` or `bash scripts/start.sh`).

Thin on purpose: open the assistant once (in the background, so the page shows the indexing
progress), wire events, and turn errors into Vietnamese messages. Rendering lives in
`qa/formatting.py`, the uploads folder in `qa/library.py`, everything else in `qa/`.

API: `Client(url).predict(question, history, api_name="/ask")` -> the JSON of `qa ask --json`,
or {"error": "<Vietnamese message>"}.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from the server
# Gradio's queue keeps timing records of its last N events for its monitoring page (10,000 by
# default; tracemalloc under load showed one record an event). This app does not use that page.
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "500")

import gradio as gr  # noqa: E402

from qa import formatting as fmt  # noqa: E402
from qa.engine import (  # noqa: E402, F401 (UNEXPECTED, StartingUp: the app's API too)
    EXAMPLES,
    UNEXPECTED,
    Engine,
    StartingUp,
    user_message,
)
from qa.errors import BadQuestionError  # noqa: E402
from qa.library import DEFAULT_MAX_BYTES, Library, LibraryError  # noqa: E402
from qa.settings import Settings  # noqa: E402

log = logging.getLogger("qa.app")

def parse_history(history) -> list:
    """Earlier questions (str) or [question, answer] pairs, oldest first."""
    turns = []
    for item in history or []:
        if isinstance(item, str):
            turns.append(item)
        elif isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str):
            turns.append((item[0], item[1] if isinstance(item[1], str) else None))
        else:
            raise BadQuestionError("Lịch sử hội thoại không hợp lệ: cần một danh sách các câu "
                                   "hỏi trước (chuỗi), cũ nhất trước.")
    return turns


def build_ui(engine: Engine) -> gr.Blocks:
    library = engine.library

    def ask(question: str, history: list[str] | None = None) -> dict:
        """Answer `question` as the next turn after `history` (earlier questions, oldest
        first). Returns the JSON of `qa ask --json`, or {"error": message} for bad input."""
        try:
            return engine.assistant().ask(question, parse_history(history)).to_dict()
        except Exception as e:
            return {"error": user_message(e)}

    def respond(question: str, turns: list, chat: list):
        if not (question or "").strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        chat = [*chat, {"role": "user", "content": fmt.render_question(question)}]
        waiting = {"role": "assistant", "content": "⏳ Đang tìm câu trả lời…"}
        yield "", [*chat, waiting], gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        try:
            answer = engine.assistant().ask(question, [tuple(t) for t in turns])
        except Exception as e:
            reply = {"role": "assistant", "content": fmt.render_error(user_message(e))}
            yield gr.skip(), [*chat, reply], gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        reply = {"role": "assistant", "content": fmt.render_reply(answer)}
        turns = [*turns, [question, None if answer.abstained else answer.text]]
        choices = fmt.cited_articles(answer)
        first = choices[0][1] if choices else None
        # the box was emptied when the question went out: leave what is typed there since
        yield (gr.skip(), [*chat, reply], turns, answer, fmt.render_sources(answer),
               gr.Dropdown(choices=choices, value=first), show_article(first, answer))

    def show_article(doc_id: str | None, answer) -> str:
        doc = engine.bot.index.docs.get(doc_id) if doc_id and engine.bot else None
        if doc is None:
            return '<p class="qa-empty">Chọn một bài được trích dẫn để đọc toàn bài.</p>'
        return fmt.render_article(doc, answer.citations if answer else ())

    def clear():
        return [], [], None, fmt.render_sources(None), gr.Dropdown(choices=[], value=None), \
            show_article(None, None)

    def library_view():
        files = library.files()
        return (fmt.render_library(files, engine.titles()),
                gr.Dropdown(choices=[f.name for f in files], value=None), engine.status())

    def change_library(change, progress, added=()):
        """Apply `change` (adds or removes files, returns notices), then re-index; `added`:
        the names the change gives the new files (filled in by `change`)."""
        try:
            bot = engine.assistant()
            with engine.lock:
                notes, errors = change()
                if notes:
                    def report(frac, message):
                        engine.report(frac, message)
                        progress(frac, desc=f"Đang lập chỉ mục… {frac:.0%}")
                    built = engine.update(bot, report)
                    for f in added:
                        if copies := engine.copies_in(f):
                            titles = "; ".join(f"“{t}”" for t in dict.fromkeys(copies))
                            notes.append(f"“{f}”: {len(copies)} bài đã có sẵn trong kho "
                                         f"({titles}) nên không lập chỉ mục lại.")
                    notes.append(f"Đã cập nhật chỉ mục: {built.documents} bài báo "
                                 f"({len(built.added) + len(built.changed)} bài mới lập "
                                 f"chỉ mục, {len(built.removed)} bài gỡ bỏ).")
        except Exception as e:
            notes, errors = [], [user_message(e)]
        notice = (fmt.render_notice(notes) if notes else "") + \
            (fmt.render_notice(errors, ok=False) if errors else "")
        return (None, notice, *library_view())

    def upload(paths, progress=gr.Progress()):  # noqa: B008 (the Gradio idiom)
        added: list[str] = []

        def change():
            notes, errors = [], []
            for path in paths or []:
                try:
                    f = library.add(path, Path(path).name, reserved=engine.reserved())
                except LibraryError as e:
                    errors.append(str(e))
                    continue
                added.append(f.name)
                skipped = f" (bỏ qua {f.skipped} dòng không đọc được)" if f.skipped else ""
                notes.append(f"Đã thêm “{f.name}”: {f.articles} bài báo{skipped}.")
            return notes, errors
        return change_library(change, progress, added)

    def remove(name: str | None, progress=gr.Progress()):  # noqa: B008
        def change():
            if not name:
                return [], ["Hãy chọn một tệp để xóa."]
            return [f"Đã xóa “{library.remove(name).name}”."], []
        return change_library(change, progress)

    with gr.Blocks(title="Hỏi đáp tin tức tiếng Việt", analytics_enabled=False,
                   delete_cache=(3600, 86400)) as demo:  # uploads' temporary copies: a day
        turns, last_answer = gr.State([]), gr.State(None)
        gr.HTML('<div class="qa-header"><h1>Hỏi đáp tin tức tiếng Việt</h1><p>Đặt câu hỏi về '
                "các bài báo: câu trả lời được trích nguyên văn, kèm nguồn [1], [2]. Có thể hỏi "
                "tiếp, ví dụ “Phường này có bao nhiêu đảng viên?”.</p></div>")
        status = gr.HTML(engine.status(), elem_id="status")
        with gr.Tabs():
            with gr.Tab("Hỏi đáp", id="chat-tab"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=5):
                        chat = gr.Chatbot(
                            label="Cuộc trò chuyện", show_label=False, elem_id="chat", height=520,
                            feedback_options=None, latex_delimiters=[], allow_tags=False,
                            buttons=[], placeholder="Hãy đặt câu hỏi về các bài báo.")
                        with gr.Row():
                            question = gr.Textbox(
                                placeholder="Nhập câu hỏi, ví dụ: Ai là Bí thư Tỉnh ủy Lai Châu?",
                                show_label=False, scale=8, elem_id="question", autofocus=True,
                                max_length=2000)
                            send = gr.Button("Gửi", variant="primary", scale=1, elem_id="send")
                        examples = gr.Dataset(label="Câu hỏi mẫu (bấm để hỏi)", type="index",
                                              components=[question], elem_id="examples",
                                              samples=[[q] for q in EXAMPLES])
                        clear_btn = gr.Button("Xóa cuộc trò chuyện", variant="secondary",
                                              size="sm", elem_id="clear")
                    with gr.Column(scale=4):
                        gr.HTML('<h3 class="qa-panel-title">Nguồn trích dẫn</h3>')
                        sources = gr.HTML(fmt.render_sources(None), elem_id="sources",
                                          max_height=640)
                        with gr.Accordion("Đọc toàn bài", open=False, elem_id="article-box"):
                            articles = gr.Dropdown(label="Bài được trích dẫn", choices=[],
                                                   elem_id="article-pick")
                            article = gr.HTML(show_article(None, None), elem_id="article")
            with gr.Tab("Bài báo của bạn", id="library-tab"):
                gr.Markdown(f"Thêm bài báo của bạn (tệp **.txt**, **.md** hoặc **.jsonl**, tối "
                            f"đa **{fmt.human_size(library.max_bytes)}** mỗi tệp). Bài được lưu "
                            "lại và lập chỉ mục ngay; trợ lý trả lời cả từ các bài này.")
                files = gr.File(label="Tải bài báo lên", file_count="multiple", height=150,
                                elem_id="upload")
                notice = gr.HTML(elem_id="upload-notice")
                listing = gr.HTML(fmt.render_library(library.files()), elem_id="library")
                with gr.Row():
                    pick = gr.Dropdown(label="Tệp", choices=[], scale=4, elem_id="library-pick")
                    remove_btn = gr.Button("Xóa tệp khỏi thư viện", variant="stop", scale=1,
                                           elem_id="remove")

        chat_io = dict(inputs=[question, turns, chat],
                       outputs=[question, chat, turns, last_answer, sources, articles, article],
                       concurrency_limit=4, concurrency_id="ask", api_visibility="private",
                       # a question sent while the last answer is still finishing waits for it
                       # instead of being dropped
                       trigger_mode="always_last")
        question.submit(respond, **chat_io)
        send.click(respond, **chat_io)
        examples.click(lambda i: EXAMPLES[i], examples, question, queue=False,
                       api_visibility="private").then(respond, **chat_io)
        clear_btn.click(clear, None, [chat, turns, last_answer, sources, articles, article],
                        queue=False, api_visibility="private")
        articles.change(show_article, [articles, last_answer], article, api_visibility="private")
        lib_io = dict(outputs=[files, notice, listing, pick, status], concurrency_limit=1,
                      concurrency_id="library", api_visibility="private")
        files.upload(upload, files, **lib_io)
        remove_btn.click(remove, pick, **lib_io, js="(name) => (name && confirm("
                         "'Xóa tệp ' + name + ' khỏi thư viện?')) ? name : null")
        timer = gr.Timer(1.0)  # the status banner follows the indexing until it is ready
        gr.on([demo.load, timer.tick],
              lambda: (*library_view(), gr.Timer(active=engine.busy())),
              None, [listing, pick, status, timer], concurrency_limit=None,
              show_progress="hidden", api_visibility="private")
        gr.api(ask, api_name="ask", concurrency_limit=4, concurrency_id="ask")
    return demo


# Gradio's own labels that show here, in Vietnamese whatever the browser's language (gradio
# ships no Vietnamese; custom translations override its keys).
UI_TEXT = {"upload_text.drop_file": "Kéo thả tệp vào đây", "common.or": "hoặc",
           "upload_text.click_to_upload": "bấm để chọn tệp", "common.clear": "Xóa",
           "common.error": "Lỗi", "common.loading": "Đang tải",
           "errors.use_via_api": "Dùng qua API",
           "common.remove": "Gỡ", "upload_text.uploading": "Đang tải lên"}


def parse_args(argv=None) -> argparse.Namespace:
    env = os.environ.get
    ap = argparse.ArgumentParser(description="Hỏi đáp tin tức tiếng Việt (ứng dụng Gradio)")
    ap.add_argument("--host", default=env("QA_HOST") or "127.0.0.1",
                    help="address to bind (default 127.0.0.1: this machine only; QA_HOST)")
    ap.add_argument("--port", type=int, default=int(env("QA_PORT") or 7860), help="QA_PORT")
    ap.add_argument("--corpus", nargs="+", default=None,
                    help="article folders or files (default: seeds, or QA_CORPUS)")
    ap.add_argument("--uploads-dir", default=env("QA_UPLOADS_DIR") or ".qa/uploads",
                    help="where uploaded articles are kept; part of the corpus")
    ap.add_argument("--index-dir", default=None, help="index folder (QA_INDEX_DIR)")
    ap.add_argument("--model", default=None, help="embedding model (QA_EMBEDDING_MODEL)")
    ap.add_argument("--max-upload-mb", type=float,
                    default=float(env("QA_MAX_UPLOAD_MB") or DEFAULT_MAX_BYTES / 2**20),
                    help="size limit of one uploaded file in MB (QA_MAX_UPLOAD_MB)")
    return ap.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    uploads = Path(args.uploads_dir)
    uploads.mkdir(parents=True, exist_ok=True)
    try:
        base = Settings.from_env(corpus=tuple(args.corpus) if args.corpus else None).corpus
        mine = () if uploads.resolve() in {p.resolve() for p in base} else (uploads,)
        settings = Settings.from_env(corpus=base + mine, index_dir=args.index_dir,
                                     embedding_model=args.model)
    except ValueError as e:  # a bad QA_* value: say which, without a traceback
        raise SystemExit(f"app.py: {e}") from None
    max_bytes = int(args.max_upload_mb * 2**20)
    library = Library(uploads, max_bytes=max_bytes, max_file_mb=settings.max_file_mb)
    for leftover in library.sweep():
        log.info("removed %s, left by an upload that was cut short", leftover)
    engine = Engine(settings, library)
    log.info("corpus %s, index %s", ", ".join(map(str, settings.corpus)), settings.index_dir)
    engine.start()
    theme = gr.themes.Soft(primary_hue="blue", neutral_hue="slate",
                           font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],
                           font_mono=["ui-monospace", "Consolas", "monospace"])
    build_ui(engine).queue(default_concurrency_limit=4).launch(
        server_name=args.host, server_port=args.port, theme=theme, css=fmt.CSS, ssr_mode=False,
        max_file_size=4 * max_bytes, footer_links=["api"], show_error=False,
        i18n=gr.I18n(en=UI_TEXT, vi=UI_TEXT))


if __name__ == "__main__":
    main()
