"""The app's engine: the assistant served while one background thread keeps its index up to date,
the uploads library beside it, and the Vietnamese message for every error.

Without Gradio, so it is tested in-process; `app.py` wires it to the page.

An update (at start, and after each upload or removal) runs in two stages (`qa.index.build_index`):
first the new articles are indexed by their words and served (seconds), then their vectors are
computed and the complete index is served. A change that arrives during the second stage stops
it between two batches, is indexed by its words at once, and the vectors of both are computed
after (nothing embedded is lost: see `qa.checkpoint`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from qa import formatting as fmt
from qa.assistant import Assistant
from qa.corpus import SAME_TEXT, load_corpus
from qa.errors import (
    BadQuestionError,
    CorpusError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    ModelLoadError,
)
from qa.index import BuildReport, build_index
from qa.library import Library, LibraryError
from qa.progress import IndexingProgress
from qa.settings import Settings
from qa.types import Answer

log = logging.getLogger("qa.app")

START_TIMEOUT_S = 300  # how long a question waits for the index to be ready
# Windows embedded at a time: a newer upload stops the build between two batches (32 windows:
# under a second on 2 cores, so it is let in about that fast).
BATCH = 32
EXAMPLES = [
    "Ai được chỉ định làm Bí thư Đảng ủy phường Kỳ Sơn nhiệm kỳ 2025-2030?",
    "Dân số phường Đoàn Kết là bao nhiêu người?",
    "ai tai dac cu bi thu dang uy phuong chi lang",
    "Ai là Bí thư Tỉnh ủy Lai Châu?",
]
MESSAGES = {  # what a person reads for each error the engine raises (details go to the log)
    IndexMissingError: "Chưa có chỉ mục tìm kiếm. Hãy khởi động lại ứng dụng để lập chỉ mục.",
    IndexCorruptError: "Chỉ mục tìm kiếm bị hỏng. Hãy khởi động lại ứng dụng để lập lại chỉ mục.",
    IndexMismatchError: "Chỉ mục được lập với cấu hình khác. Hãy khởi động lại ứng dụng.",
    ModelLoadError: "Không nạp được mô hình ngôn ngữ. Người quản trị hãy xem nhật ký máy chủ.",
    CorpusError: "Không đọc được kho bài báo. Người quản trị hãy xem nhật ký máy chủ.",
}
UNEXPECTED = "Đã có lỗi ngoài dự kiến khi xử lý yêu cầu. Vui lòng thử lại."


class StartingUp(Exception):
    """The index is still being built after START_TIMEOUT_S."""


def user_message(err: BaseException) -> str:
    if isinstance(err, (BadQuestionError, LibraryError)):  # already in Vietnamese
        return str(err)
    if isinstance(err, StartingUp):
        return "Trợ lý đang lập chỉ mục các bài báo, vui lòng hỏi lại sau ít phút."
    for kind, message in MESSAGES.items():
        if isinstance(err, kind):
            log.warning("%s: %s", type(err).__name__, err)
            return message
    log.error("unexpected error", exc_info=err)
    return UNEXPECTED


class Engine:
    """The served assistant, and the one thread that updates its index when asked (`request`).

    Each request gets a ticket; `wait_searchable(ticket)` returns once the corpus as it was at
    the request is searchable by its words (or the update failed), `busy()` stays true until its
    vectors are in too. Questions are answered meanwhile from what is served."""

    def __init__(self, settings: Settings, library: Library):
        self.settings, self.library = settings, library
        self.bot: Assistant | None = None
        self.error: BaseException | None = None  # the start failed: nothing to serve
        self.stale: BaseException | None = None  # the last update failed: an older index served
        self.ready = threading.Event()  # an index is served, or the start failed
        self.lock = threading.Lock()  # one change of the library at a time
        self.skips: list[tuple[str, str]] = []  # (file or doc_id, reason) of the last update
        self.progress = IndexingProgress()
        self._cond = threading.Condition()
        self._asked = 0  # the last ticket handed out (0: the start's update)
        self._searchable = -1  # the last ticket whose articles can be found by their words
        self._complete = -1  # the last ticket whose articles have their vectors too
        self._failed: dict[int, BaseException] = {}
        self._incoming: dict[str, int] = {}  # uploaded file -> its ticket, until searchable

    # --- the updating thread ------------------------------------------------------------

    def start(self) -> None:
        threading.Thread(target=self._run, name="qa-index", daemon=True).start()

    def request(self, names: tuple[str, ...] = ()) -> int:
        """Ask for an update of the index to the corpus as it is now; `names`: uploaded files
        it adds. The ticket of the request."""
        with self._cond:
            self._asked += 1
            for name in names:
                self._incoming[name] = self._asked
            self._cond.notify_all()
            return self._asked

    def wait_searchable(self, ticket: int, timeout: float | None = None) -> BaseException | None:
        """Block until the request `ticket` is searchable by its words; the error that stopped
        its update, if one did."""
        with self._cond:
            self._cond.wait_for(lambda: self._searchable >= ticket, timeout)
            return self.error or self._failed.get(ticket)

    def _run(self) -> None:
        self.progress.begin("start")
        try:
            bot = self._base = Assistant(self.settings)  # models loaded on first use
            try:
                bot.load()
                self._serve(bot)
                log.info("serving the last complete index while it is updated")
            except IndexMissingError:
                log.info("no index yet: building it")
            except Exception as e:  # damaged or other settings: the build starts afresh
                log.warning("cannot serve the index on disk, rebuilding it: %s", e)
        except Exception as e:  # the models cannot load: nothing will ever be served
            self._fail_start(e)
            return
        ticket = 0
        while True:
            try:
                self._update(ticket)
            except Exception as e:  # shown in the status banner (and in every reply if no index)
                log.exception("could not %s the index", "open" if self.bot is None else "update")
                if self.bot is None:
                    self._fail_start(e)
                    return
                self.stale = e
                self._mark(ticket, searchable=True, complete=True, failure=e)
            with self._cond:
                self._cond.wait_for(lambda: self._asked > self._complete)
                ticket = self._asked

    def _update(self, ticket: int) -> BuildReport:
        self.skips = []
        docs = load_corpus(list(self.settings.corpus), on_skip=self._skipped,
                           max_file_mb=self.settings.max_file_mb)
        base = self._base

        def searchable(index) -> None:
            self._serve_version(base, index)
            self.progress.begin("vectors")  # what the build does next
            self._mark(ticket, searchable=True)
            log.info("searchable by words: %d articles (%d still without vectors)",
                     len(index.docs), len(index.pending_docs()))

        self.progress.begin("words")
        index, report = build_index(
            docs, base.store, base.embedder, base.chunking, dense_kind=self.settings.dense_index,
            progress=self._report, on_lexical=searchable, batch_size=BATCH,
            stop=lambda: self._asked > ticket)
        self._serve_version(base, index)
        self.stale = None
        self._mark(ticket, searchable=True, complete=not report.stopped)
        self.progress.end()
        log.info("%s: %d articles, %d chunks (%d windows embedded, %d versions written)",
                 "stopped for a newer change" if report.stopped else "ready",
                 len(index.docs), len(index.chunks), report.embedded_chunks, report.written)
        return report

    def _serve_version(self, base: Assistant, index) -> None:
        """Answer from the version `index` the build just published (unless it is the one
        served): a new assistant sharing `base`'s models takes the index as the build holds it,
        without reading it back from disk."""
        if self.bot is not None and self.bot.index.folder == index.folder:
            return
        bot = Assistant(self.settings, embedder=base.embedder, reader=base.reader)
        bot.serve(index)
        self._serve(bot)

    def _serve(self, bot: Assistant) -> None:
        if self.bot is None:  # load the models now rather than on the first question
            with contextlib.suppress(BadQuestionError):  # a limit shorter than this question
                bot.ask("Ai là Bí thư?")
        self.bot = bot
        self.ready.set()

    def _mark(self, ticket: int, searchable: bool = False, complete: bool = False,
              failure: BaseException | None = None) -> None:
        with self._cond:
            if failure is not None:
                self._failed[ticket] = failure
            if searchable:
                self._searchable = max(self._searchable, ticket)
                self._incoming = {n: t for n, t in self._incoming.items() if t > ticket}
            if complete:
                self._complete = max(self._complete, ticket)
            self._cond.notify_all()

    def _fail_start(self, e: BaseException) -> None:
        self.error = e
        self.progress.end()
        with self._cond:
            self._searchable = self._complete = self._asked = 1 << 60
            self._cond.notify_all()
        self.ready.set()

    def _report(self, frac: float, message: str) -> None:
        self.progress.update(frac, message)
        log.info("index %3d%% %s", round(100 * frac), message)

    def _skipped(self, path, reason: str) -> None:
        log.warning("skipped %s: %s", path, reason)
        self.skips.append((str(path), reason))

    # --- the library ------------------------------------------------------------------

    def add_files(self, paths: Sequence[str | Path]) -> tuple[list[str], list[str]]:
        """Add uploaded files to the library, then index them: returns once they can be found
        by their words (their vectors follow in the background). (notes, errors), in
        Vietnamese."""
        self.assistant()  # the start first: its update knows what the corpus held
        notes, errors, added = [], [], []
        with self.lock:
            for path in paths:
                try:
                    f = self.library.add(path, Path(path).name, reserved=self.reserved())
                except LibraryError as e:
                    errors.append(str(e))
                    continue
                added.append(f.name)
                skipped = f" (bỏ qua {f.skipped} dòng không đọc được)" if f.skipped else ""
                notes.append(f"Đã thêm “{f.name}”: {f.articles} bài báo{skipped}.")
        if added:
            failure = self.wait_searchable(self.request(tuple(added)))
            if failure is not None:
                return notes, [*errors, f"Chưa lập chỉ mục được: {user_message(failure)}"]
            for name in added:
                if copies := self.copies_in(name):
                    titles = "; ".join(f"“{t}”" for t in dict.fromkeys(copies))
                    notes.append(f"“{name}”: {len(copies)} bài đã có sẵn trong kho ({titles}) "
                                 "nên không lập chỉ mục lại.")
            notes.append(self._indexed_note())
        return notes, errors

    def remove_file(self, name: str | None) -> tuple[list[str], list[str]]:
        """Delete an uploaded file and take its articles out of the index. (notes, errors)."""
        if not name:
            return [], ["Hãy chọn một tệp để xóa."]
        self.assistant()
        with self.lock:
            try:
                removed = self.library.remove(name)
            except LibraryError as e:
                return [], [str(e)]
        failure = self.wait_searchable(self.request())
        if failure is not None:
            return [], [f"Đã xóa “{removed.name}” nhưng chưa cập nhật được chỉ mục: "
                        f"{user_message(failure)}"]
        return [f"Đã xóa “{removed.name}” khỏi thư viện và khỏi chỉ mục.",
                self._indexed_note()], []

    def _indexed_note(self) -> str:
        index = self.bot.index
        pending = len(index.pending_docs())
        text = f"Chỉ mục: {len(index.docs)} bài báo, {len(index.chunks)} đoạn văn."
        if pending:
            text += (f" {pending} bài mới đã tìm được theo từ khóa; đang tính vector ngữ nghĩa "
                     "cho chúng (tiến độ ở dòng trạng thái phía trên).")
        return text

    # --- what the page shows ------------------------------------------------------------

    def ask(self, question, history: Sequence = ()) -> Answer:
        """The answer, or a question back when `question` refers to something ("phường này")
        that nothing earlier names (`Assistant.ask`, qa/clarify.py)."""
        return self.assistant().ask(question, history)

    @property
    def model_name(self) -> str:
        return self.settings.embedding_model

    def assistant(self, timeout: float = START_TIMEOUT_S) -> Assistant:
        if not self.ready.wait(timeout):
            raise StartingUp()
        if self.error is not None:
            raise self.error
        return self.bot

    def busy(self) -> bool:
        """Still starting or updating: the status banner keeps following."""
        with self._cond:
            return self.error is None and self._complete < self._asked

    def indexing(self) -> list[tuple[str, bool]]:
        """(uploaded file, searchable by its words already) for each upload whose indexing is
        not over: what a reply given meanwhile must say."""
        with self._cond:
            incoming = dict(self._incoming)
        if self.bot is None:
            return [(n, False) for n in incoming]
        waiting = {d.split("#")[0] for d in self.bot.index.pending_docs()}
        names = {f.name for f in self.library.files()}
        out = [(n, False) for n in incoming if n in names]
        out += [(n, True) for n in sorted(waiting & names) if n not in incoming]
        return out

    def status(self) -> str:
        if not self.ready.is_set():
            return fmt.render_status(self.progress.describe(), self.progress.fraction())
        if self.error is not None:
            return fmt.render_status(f"Không mở được chỉ mục: {user_message(self.error)}",
                                     kind="error")
        index, mine = self.bot.index, len(self.library.files())
        text = (f"Sẵn sàng · {len(index.docs)} bài báo · {len(index.chunks)} đoạn văn · "
                f"{mine} tệp của bạn")
        if self.busy():
            files = ", ".join(f"“{n}”" for n, _ in self.indexing())
            doing = self.progress.describe() + (f" (tệp {files})" if files else "")
            return fmt.render_status(f"{text} · {doing}", self.progress.fraction(), kind="ready")
        if self.stale is not None:
            return fmt.render_status(f"{text} · chưa cập nhật được chỉ mục: "
                                     f"{user_message(self.stale)}", kind="error")
        return fmt.render_status(text, kind="ready")

    def copies_in(self, name: str) -> list[str]:
        """Titles of the articles that the uploaded file `name` repeats (its copies are not
        indexed again; see qa.corpus.load_corpus), as the last update found them."""
        docs = self.bot.index.docs if self.bot is not None else {}
        titles = []
        for path, reason in self.skips:
            if path.split("#")[0] == name and reason.startswith(SAME_TEXT):
                original = docs.get(reason[len(SAME_TEXT):].strip())
                titles.append(original.title if original else reason[len(SAME_TEXT):].strip())
        return titles

    def titles(self) -> dict[str, list[str]]:
        """Titles of the indexed articles, by the uploaded file that holds them."""
        out: dict[str, list[str]] = {}
        if self.bot is not None:
            names = {f.name for f in self.library.files()}
            for doc in self.bot.index.docs.values():
                if (name := doc.doc_id.split("#")[0]) in names:
                    out.setdefault(name, []).append(doc.title)
        return out

    def reserved(self) -> set[str]:
        """Top-level names the rest of the corpus uses: an upload must not clash with them."""
        mine = {f.name for f in self.library.files()}
        return {d.split("#")[0].split("/")[0] for d in self.bot.index.docs} - mine
