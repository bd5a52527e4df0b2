"""Gradio chat over the indexed articles (start: `python app.py` or `bash scripts/start.sh`).

Thin on purpose: open the engine (it serves the assistant and keeps the index up to date in the
background), wire events, and turn errors into Vietnamese messages. Rendering lives in
`qa/formatting.py` and `qa/sources.py`, the uploads folder in `qa/library.py`, Gradio's copies
of uploads in `qa/upload_cache.py`, the checks of the API's arguments in `qa/api_input.py`.

API: `Client(url).predict(question, history, api_name="/ask")` -> the JSON of `qa ask --json`
plus `indexing` (uploads not fully indexed yet), or {"error": "<Vietnamese message>"}.
"""

from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import signal
import sys
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from the server
# Gradio's queue keeps timing records of its last N events for its monitoring page (10,000 by
# default; tracemalloc under load showed one record an event). This app does not use that page.
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "500")


def _few_malloc_arenas(n: int = 2) -> bool:
    """glibc gives each thread that allocates its own heap ("arena", up to 8 per core), and
    freed memory stays in them: the server's worker threads held ~175 MB that way
    (docs/benchmarks.md). Capping the arenas, before the threads start, is what
    MALLOC_ARENA_MAX=2 does; a value already set in the environment is left to glibc."""
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(-8, n))  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc (musl, …): nothing to cap
        return False


_few_malloc_arenas()

import gradio as gr  # noqa: E402

from qa import formatting as fmt  # noqa: E402
from qa import upload_cache  # noqa: E402
from qa.api_input import check_history, check_question_type  # noqa: E402
from qa.assistant import Assistant  # noqa: E402
from qa.engine import (  # noqa: E402, F401 (UNEXPECTED, StartingUp: the app's API too)
    EXAMPLES,
    UNEXPECTED,
    Engine,
    StartingUp,
    user_message,
)
from qa.errors import BadQuestionError  # noqa: E402
from qa.library import DEFAULT_MAX_BYTES, Library  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.sources import cited_articles, render_sources  # noqa: E402
from qa.style import CSS  # noqa: E402

log = logging.getLogger("qa.app")


def parse_history(history, max_chars: int = Settings.max_question_chars) -> list:
    """Earlier questions (str) or [question, answer] pairs, oldest first (see qa/api_input.py)."""
    return check_history(history, max_chars)


def count_text(question: str, limit: int) -> str:
    """`123/1.000 ký tự` under the box, counted as the server counts (spaces collapsed)."""
    n = len(" ".join(question.split()))
    over = n > limit
    return (f'<span class="qa-count{" qa-over" if over else ""}">{n:,}/{limit:,} ký tự'
            .replace(",", ".") + (" · quá dài, hãy rút gọn" if over else "") + "</span>")


def build_ui(engine: Engine) -> gr.Blocks:
    library = engine.library
    limit = engine.settings.max_question_chars
    cache = Path(os.environ.get("GRADIO_TEMP_DIR", "/nonexistent")).resolve()

    def ask(question: str, history: list | None = None) -> dict:
        """Answer `question` as the next turn after `history` (earlier questions, oldest
        first, or [question, answer] pairs). Returns the JSON of `qa ask --json` with
        `indexing`, or {"error": message} for bad input."""
        try:
            check_question_type(question)
            answer = engine.ask(question, parse_history(history, limit))
            return {**answer.to_dict(), "indexing": [
                {"file": name, "searchable_by": "words" if words else "nothing yet"}
                for name, words in engine.indexing()]}
        except Exception as e:
            return {"error": user_message(e)}

    def respond(question: str, turns: list, chat: list):
        keep = (gr.skip(),) * 6
        if not (question or "").strip():
            yield gr.skip(), gr.skip(), *keep
            return
        try:  # before the box is emptied: a refused question stays there to be fixed
            Assistant.check_question_text(question, limit)
        except BadQuestionError as e:
            yield gr.skip(), f'<span class="qa-refused">Chưa gửi: {fmt.esc(str(e))}</span>', *keep
            return
        chat = [*chat, {"role": "user", "content": fmt.render_question(question)}]
        waiting = {"role": "assistant", "content": "⏳ Đang tìm câu trả lời…"}
        yield "", "", [*chat, waiting], *((gr.skip(),) * 5)
        try:
            answer = engine.ask(question, [tuple(t) for t in turns])
        except Exception as e:
            reply = {"role": "assistant", "content": fmt.render_error(user_message(e))}
            yield gr.skip(), gr.skip(), [*chat, reply], *((gr.skip(),) * 5)
            return
        reply = {"role": "assistant", "content": fmt.render_reply(answer, engine.indexing())}
        turns = [*turns, [question, None if answer.abstained else answer.text]]
        choices = cited_articles(answer)
        # after "not found" the passages are only the nearest: no article opened for them
        first = choices[0][1] if choices and not answer.abstained else None
        sources = render_sources(answer, fmt.supporting_ranks(answer)[1:], engine.model_name)
        # the box was emptied when the question went out: leave what is typed there since
        yield (gr.skip(), gr.skip(), [*chat, reply], turns, answer, sources,
               gr.Dropdown(choices=choices, value=first), show_article(first, answer))

    def show_article(doc_id: str | None, answer) -> str:
        doc = engine.bot.index.docs.get(doc_id) if doc_id and engine.bot else None
        if doc is None:
            return '<p class="qa-empty">Chọn một bài được trích dẫn để đọc toàn bài.</p>'
        return fmt.render_article(doc, answer.citations if answer else ())

    def clear():
        return [], [], None, render_sources(None), gr.Dropdown(choices=[], value=None), \
            show_article(None, None), ""

    def library_view():
        files = library.files()
        return (fmt.render_library(files, engine.titles()),
                gr.Dropdown(choices=[f.name for f in files], value=None), engine.status(),
                gr.Timer(active=engine.busy()))

    def notice_of(notes: list[str], errors: list[str]) -> str:
        return (fmt.render_notice(notes) if notes else "") + \
            (fmt.render_notice(errors, ok=False) if errors else "")

    def upload(paths):
        names = [Path(p).name for p in paths or []]
        yield (gr.skip(), fmt.render_notice([f"Đang thêm {', '.join(names)}…"]), gr.skip(),
               gr.skip(), engine.status(), gr.Timer(active=True))
        try:
            notes, errors = engine.add_files(paths or [])
        except Exception as e:
            notes, errors = [], [user_message(e)]
        finally:  # Gradio's copies: the library has its own, a refused file is kept nowhere
            for p in paths or []:
                upload_cache.discard(p, cache)
        yield (None, notice_of(notes, errors), *library_view())

    def remove(name: str | None):
        try:
            notes, errors = engine.remove_file(name)
        except Exception as e:
            notes, errors = [], [user_message(e)]
        return (None, notice_of(notes, errors), *library_view())

    with gr.Blocks(title="Hỏi đáp tin tức tiếng Việt", analytics_enabled=False,
                   delete_cache=(600, 600)) as demo:  # leftovers: handled uploads are deleted
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
                                show_label=False, scale=8, elem_id="question", autofocus=True)
                            send = gr.Button("Gửi", variant="primary", scale=1, elem_id="send")
                        with gr.Column(elem_classes="qa-note"):
                            # the count, kept by the page as the box changes; the server's
                            # word on a refused question beside it
                            gr.HTML(count_text("", limit), elem_id="question-count")
                            note = gr.HTML("", elem_id="question-note")
                        examples = gr.Dataset(label="Câu hỏi mẫu (bấm để hỏi)", type="index",
                                              components=[question], elem_id="examples",
                                              samples=[[q] for q in EXAMPLES])
                        clear_btn = gr.Button("Xóa cuộc trò chuyện", variant="secondary",
                                              size="sm", elem_id="clear")
                    with gr.Column(scale=4):
                        gr.HTML('<h3 class="qa-panel-title">Nguồn trích dẫn</h3>')
                        sources = gr.HTML(render_sources(None), elem_id="sources",
                                          max_height=640)
                        with gr.Accordion("Đọc toàn bài", open=False, elem_id="article-box"):
                            articles = gr.Dropdown(label="Bài được trích dẫn", choices=[],
                                                   elem_id="article-pick")
                            article = gr.HTML(show_article(None, None), elem_id="article")
            with gr.Tab("Bài báo của bạn", id="library-tab"):
                gr.Markdown(f"Thêm bài báo của bạn (tệp **.txt**, **.md** hoặc **.jsonl**, tối "
                            f"đa **{fmt.human_size(library.max_bytes)}** mỗi tệp). Bài mới tìm "
                            "được theo từ khóa sau vài giây, theo nghĩa khi lập chỉ mục xong; "
                            "tiến độ hiện ở dòng trạng thái phía trên.")
                files = gr.File(label="Tải bài báo lên", file_count="multiple", height=150,
                                elem_id="upload")
                notice = gr.HTML(elem_id="upload-notice")
                listing = gr.HTML(fmt.render_library(library.files()), elem_id="library")
                with gr.Row():
                    pick = gr.Dropdown(label="Tệp", choices=[], scale=4, elem_id="library-pick")
                    remove_btn = gr.Button("Xóa tệp khỏi thư viện", variant="stop", scale=1,
                                           elem_id="remove")
        timer = gr.Timer(1.0)  # the status line follows the indexing until it is over

        chat_io = dict(inputs=[question, turns, chat],
                       outputs=[question, note, chat, turns, last_answer, sources, articles,
                                article],
                       concurrency_limit=4, concurrency_id="ask", api_visibility="private",
                       show_progress="hidden",  # the "⏳" bubble says it is working
                       # a question sent while the last answer is still finishing waits for it
                       # instead of being dropped
                       trigger_mode="always_last")
        question.submit(respond, **chat_io)
        send.click(respond, **chat_io)
        # the count under the box as it changes, typed or emptied (in the page: no call)
        question.change(None, question, None, js=COUNT_JS.replace("LIMIT", str(limit)))
        examples.click(lambda i: EXAMPLES[i], examples, question, queue=False,
                       api_visibility="private").then(respond, **chat_io)
        clear_btn.click(clear, None, [chat, turns, last_answer, sources, articles, article, note],
                        queue=False, api_visibility="private")
        articles.change(show_article, [articles, last_answer], article, api_visibility="private")
        # one progress indicator: the status line (no Gradio overlay on every output)
        lib_io = dict(outputs=[files, notice, listing, pick, status, timer], concurrency_limit=1,
                      concurrency_id="library", api_visibility="private", show_progress="hidden")
        files.upload(upload, files, **lib_io)
        remove_btn.click(remove, pick, **lib_io, js="(name) => (name && confirm("
                         "'Xóa tệp ' + name + ' khỏi thư viện?')) ? name : null")
        gr.on([demo.load, timer.tick], library_view, None, [listing, pick, status, timer],
              concurrency_limit=None, show_progress="hidden", api_visibility="private")
        gr.api(ask, api_name="ask", concurrency_limit=4, concurrency_id="ask")
    return demo


# The count under the question box, updated in the page as the person types.
COUNT_JS = """(q) => { const n = (q || '').replace(/\\s+/g, ' ').trim().length, limit = LIMIT;
  const box = document.querySelector('#question-count');
  if (box) { const fmt = x => x.toLocaleString('de-DE');
    box.innerHTML = '<span class="qa-count' + (n > limit ? ' qa-over' : '') + '">' + fmt(n) +
      '/' + fmt(limit) + ' ký tự' + (n > limit ? ' · quá dài, hãy rút gọn' : '') + '</span>'; }
  return []; }"""

# Gradio's own labels that show here, in Vietnamese whatever the browser's language (gradio
# ships no Vietnamese; custom translations override its keys).
UI_TEXT = {"upload_text.drop_file": "Kéo thả tệp vào đây", "common.or": "hoặc",
           "upload_text.click_to_upload": "bấm để chọn tệp", "common.clear": "Xóa",
           "common.error": "Lỗi", "common.loading": "Đang tải",
           "errors.use_via_api": "Dùng qua API",
           "common.remove": "Gỡ", "upload_text.uploading": "Đang tải lên"}
# The browser refuses a file over the size limit before sending it, with an English message
# that no translation key reaches: this rewrites it where it shows.
TOO_BIG_JS = """<script>
new MutationObserver(() => {
  for (const el of document.querySelectorAll('.toast-body, .toast-body *')) {
    if (el.children.length) continue;  // only the text itself: the toast keeps its parts
    const m = el.textContent.match(/exceed the maximum allowed size of ([^:]+): (.*)/);
    if (m && !el.dataset.qaVi) { el.dataset.qaVi = '1';
      const limit = m[1].replace(/\\.0 /, ' ').replace('.', ',').replace(/mb$/i, 'MB');
      el.textContent = 'Tệp ' + m[2] + ' quá lớn: giới hạn là ' + limit +
        ' mỗi tệp. Tệp không được gửi lên.';
      const title = el.closest('.toast-body')?.querySelector('.toast-title');
      if (title && title.firstChild) title.firstChild.textContent = 'Lỗi '; } }
}).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
</script>"""


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
    # Gradio's copies of uploads: this process's own folder, gone when it stops
    cache = upload_cache.make_cache()
    os.environ["GRADIO_TEMP_DIR"] = str(cache)
    atexit.register(shutil.rmtree, cache, True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so that atexit runs
    engine = Engine(settings, library)
    log.info("corpus %s, index %s", ", ".join(map(str, settings.corpus)), settings.index_dir)
    engine.start()
    theme = gr.themes.Soft(primary_hue="blue", neutral_hue="slate",
                           font=["ui-sans-serif", "system-ui", "Segoe UI", "Roboto", "sans-serif"],
                           font_mono=["ui-monospace", "Consolas", "monospace"])
    from starlette.middleware import Middleware

    build_ui(engine).queue(default_concurrency_limit=4).launch(
        server_name=args.host, server_port=args.port, theme=theme, css=CSS, ssr_mode=False,
        # the browser refuses a larger file before sending it (the library checks it again)
        max_file_size=max_bytes, footer_links=["api"], show_error=False, head=TOO_BIG_JS,
        app_kwargs={"middleware": [Middleware(upload_cache.GoneFiles, folder=cache)]},
        i18n=gr.I18n(en=UI_TEXT, vi=UI_TEXT))


if __name__ == "__main__":
    main()
