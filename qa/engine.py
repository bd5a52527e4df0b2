"""The app's engine: the assistant opened in the background, kept serving while it is
updated, the uploads library beside it, and the Vietnamese message for every error.

Without Gradio, so it is tested in-process; `app.py` wires it to the page.
"""

from __future__ import annotations

import logging
import threading

from qa import formatting as fmt
from qa.assistant import Assistant
from qa.corpus import SAME_TEXT
from qa.errors import (
    BadQuestionError,
    CorpusError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    ModelLoadError,
)
from qa.index import BuildReport
from qa.library import Library, LibraryError
from qa.settings import Settings

log = logging.getLogger("qa.app")

START_TIMEOUT_S = 300  # how long a question waits for the index to be ready
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
    """The assistant, opened in a background thread so the page is up while the index builds;
    plus the uploads library and the lock that keeps one change + re-index at a time.

    Questions are answered from the last complete index while a newer one is built (at start,
    after a build that was killed, and after uploads): each update builds into a fresh
    `Assistant` that shares the models, and replaces the served one when it is done."""

    def __init__(self, settings: Settings, library: Library):
        self.settings, self.library = settings, library
        self.bot: Assistant | None = None
        self.error: BaseException | None = None  # the start failed: nothing to serve
        self.stale: BaseException | None = None  # the last update failed: an older index served
        self.progress = 0.0
        self.updating = True  # from the start until its update is done
        self.ready = threading.Event()  # an index is served, or the start failed
        self.lock = threading.Lock()
        self.skips: list[tuple[str, str]] = []  # (file or doc_id, reason) of the last update

    def start(self) -> None:
        threading.Thread(target=self._open, name="qa-open", daemon=True).start()

    def _open(self) -> None:
        try:
            self.report(0.0, "loading the articles and the model")
            bot = Assistant(self.settings)
            try:
                bot.load()
                self._serve(bot)
                log.info("serving the last complete index while it is updated")
            except IndexMissingError:
                log.info("no index yet: building it")
            except Exception as e:  # damaged or other settings: the build starts afresh
                log.warning("cannot serve the index on disk, rebuilding it: %s", e)
            with self.lock:
                self.update(bot, self.report)
        except Exception as e:  # shown in the status banner (and in every reply if no index)
            if self.bot is None:
                self.error = e
            log.exception("could not %s the index", "open" if self.bot is None else "update")
        finally:
            self.updating = False
            self.ready.set()

    def update(self, base: Assistant, progress) -> BuildReport:
        """Build the index of the corpus as it is now beside the served one, then serve it.
        Call with `self.lock` held."""
        self.updating, self.progress, self.skips = True, 0.0, []
        try:
            fresh = Assistant(self.settings, embedder=base.embedder, reader=base.reader)
            built = fresh.update_index(progress=progress, on_skip=self.skipped)
            self._serve(fresh)
            self.stale = None
        except Exception as e:
            self.stale = e
            raise
        finally:
            self.updating = False
        log.info("ready: %d articles, %d chunks", len(fresh.index.docs), len(fresh.index.chunks))
        return built

    def _serve(self, bot: Assistant) -> None:
        bot.ask(EXAMPLES[0])  # load the models now rather than on the first question
        self.bot = bot
        self.ready.set()

    def report(self, frac: float, message: str) -> None:
        self.progress = frac
        log.info("index %3d%% %s", round(100 * frac), message)

    def skipped(self, path, reason: str) -> None:
        log.warning("skipped %s: %s", path, reason)
        self.skips.append((str(path), reason))

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

    def assistant(self, timeout: float = START_TIMEOUT_S) -> Assistant:
        if not self.ready.wait(timeout):
            raise StartingUp()
        if self.error is not None:
            raise self.error
        return self.bot

    def status(self) -> str:
        if not self.ready.is_set():
            step = ("Đang khởi động: nạp mô hình và đọc các bài báo…" if self.progress == 0
                    else f"Đang lập chỉ mục các bài báo… {self.progress:.0%}")
            return fmt.render_status(step, self.progress)
        if self.error is not None:
            return fmt.render_status(f"Không mở được chỉ mục: {user_message(self.error)}",
                                     kind="error")
        index, mine = self.bot.index, len(self.library.files())
        text = (f"Sẵn sàng · {len(index.docs)} bài báo · {len(index.chunks)} đoạn văn · "
                f"{mine} tệp của bạn")
        if self.updating:
            return fmt.render_status(f"{text} · đang cập nhật chỉ mục… {self.progress:.0%}",
                                     self.progress, kind="ready")
        if self.stale is not None:
            return fmt.render_status(f"{text} · chưa cập nhật được chỉ mục: "
                                     f"{user_message(self.stale)}", kind="error")
        return fmt.render_status(text, kind="ready")

    def busy(self) -> bool:
        """Still starting or updating: the status banner keeps following."""
        return not self.ready.is_set() or self.updating

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
