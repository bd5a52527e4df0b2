"""The real app in headless Chromium (Debian's /usr/bin/chromium through Playwright), as a careful
reader uses it: sources grouped by article with the evidence first, a refusal whose passages
stay folded, an ambiguous question answered with a question, a question over the limit kept in
the box, an oversized file refused before it is sent, and an upload that is searchable at once
(one progress line meanwhile, replies that say it is still being indexed), then removed, its URL
answering 404. Screenshots go to docs/screenshots/.

Outside CI the module is skipped where Chromium is missing; in CI (which installs it) it fails.
Answers are checked loosely (the gold string in the cited evidence passage), since the reader's
weights change.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from test_app import KY_SON, KY_SON_TITLE, SEEDS, running_app

from qa.types import NOT_FOUND

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
TIMEOUT_MS = 60_000
INDEXING_TIMEOUT_MS = 900_000  # the vectors of the big upload, on a busy 2-core machine
IN_CI = bool(os.environ.get("CI"))

if not IN_CI and not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: install it with `apt-get install chromium` to run the "
                "browser tests", allow_module_level=True)
if not IN_CI:
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

NEWS_TITLE = "Xã Hòa Bình bầu Chủ tịch Ủy ban nhân dân mới"
NEWS = """Ngày 3/10, Hội đồng nhân dân xã Hòa Bình tổ chức kỳ họp bất thường. Với 28/29 đại biểu \
tán thành, ông Lường Văn Khiêm được bầu giữ chức Chủ tịch Ủy ban nhân dân xã Hòa Bình nhiệm kỳ \
2021-2026.

Trước đó, ông Khiêm là Phó Bí thư Đảng ủy xã. Xã Hòa Bình có 4.215 hộ dân.

Bạn đọc gửi mã <img src=x onerror="window.__xss=1"> và <script>window.__xss=2</script> vào \
bài viết này; ứng dụng phải hiện chúng như chữ."""
NEWS_QUESTION = "Ai được bầu giữ chức Chủ tịch Ủy ban nhân dân xã Hòa Bình?"
LIMIT = 1000  # Settings.max_question_chars


def long_article(size: int = 250_000) -> str:
    """NEWS in the middle of about `size` bytes of other news (the seeds' paragraphs, numbered
    so that no two are the same): long enough for its vectors to take a while."""
    paragraphs = [p.strip() for f in sorted(SEEDS.glob("*.txt"))
                  for p in f.read_text(encoding="utf-8").split("\n\n")[1:] if len(p) > 80]
    body, n = [], 0
    while sum(len(p.encode()) for p in body) < size:
        body.append(f"(Tin {n + 1}) {paragraphs[n % len(paragraphs)]}")
        n += 1
    body.insert(len(body) // 2, NEWS)
    return NEWS_TITLE + "\n\n" + "\n\n".join(body) + "\n"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("browser-app")) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs it with apt-get")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextlib.contextmanager
def opened(browser, app_url: str):
    """A page of the app, kept on this machine, once the app says it is ready."""
    page = browser.new_page(viewport={"width": 1400, "height": 980}, locale="vi-VN")
    try:
        outside: list[str] = []

        def local_only(route):  # the page must never reach past this machine
            url = route.request.url
            if url.startswith((app_url, "data:", "blob:")):
                route.continue_()
            else:
                outside.append(url)
                route.abort()

        page.route("**/*", local_only)
        page.on("dialog", lambda dialog: dialog.accept())
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(app_url)
        page.wait_for_selector("#question textarea")
        page.wait_for_function("document.querySelector('#status').innerText.includes('Sẵn sàng')")
        yield page
        assert outside == [], f"requests outside 127.0.0.1: {outside}"
    finally:
        page.close()


@pytest.fixture(scope="module")
def page(browser, app_url):
    with opened(browser, app_url) as page:
        yield page


def ask(page, question: str) -> str:
    """Type `question`, send it, and return the text of the new reply."""
    bots = page.locator('#chat [data-testid="bot"]')
    before = bots.count()
    page.fill("#question textarea", question)
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        """n => { const b = document.querySelectorAll('#chat [data-testid="bot"]');
                  return b.length > n && !b[b.length - 1].innerText.includes('Đang tìm'); }""",
        arg=before)
    return bots.last.inner_text()


def clear_chat(page) -> None:
    page.click("#clear")
    page.wait_for_function("""!document.querySelector('#chat [data-testid="bot"]')""")


def shot(page, name: str) -> None:
    page.wait_for_timeout(300)  # let the last paint settle
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def open_article(page) -> None:
    """Open "Đọc toàn bài" (a click toggles it: only where it is closed)."""
    if not page.locator("#article").is_visible():
        page.click("#article-box button, #article-box .label-wrap")
    page.locator("#article").wait_for()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


@pytest.mark.browser
def test_sources_grouped_by_article_with_the_evidence_first(page):
    reply = ask(page, KY_SON)
    assert "độ tin cậy" in reply and "[1]" in reply
    sources = page.locator("#sources")
    main = sources.locator(".qa-group.qa-main")
    assert main.count() == 1
    assert main.locator(".qa-article-head").inner_text().startswith(KY_SON_TITLE)
    evidence = main.locator(".qa-source").first
    assert evidence.locator(".qa-badge").inner_text() == "Căn cứ của câu trả lời"
    assert evidence.locator("mark").count() == 1
    assert "Hoàng Văn Minh" in evidence.locator(".qa-ev").inner_text()
    # the title once: every other passage is in the fold, under its own article's head
    assert sources.inner_text().count(KY_SON_TITLE) == 1
    fold = sources.locator("details.qa-more")
    assert fold.count() == 1 and fold.get_attribute("open") is None
    assert fold.locator("summary").inner_text().startswith("Các đoạn liên quan khác")
    labels = sources.locator(".qa-rel").all_text_contents()  # folded ones too
    assert labels and set(labels) <= {"rất liên quan", "liên quan", "ít liên quan"}
    assert "điểm" not in sources.inner_text()  # no raw fusion scores
    open_article(page)
    article = page.locator("#article")
    article.locator("mark").first.wait_for()
    assert KY_SON_TITLE in article.inner_text()
    shot(page, "answer-with-sources.png")
    fold.locator("summary").click()
    assert fold.get_attribute("open") is not None
    fold.locator(".qa-source").first.wait_for()
    shot(page, "sources-unfolded.png")


@pytest.mark.browser
def test_follow_up(page):
    clear_chat(page)
    ask(page, "Ai được chỉ định làm Bí thư Đảng ủy phường Kỳ Sơn?")
    reply = ask(page, "Phường này có bao nhiêu đảng viên?")
    assert "Hiểu câu hỏi là: “Phường Kỳ Sơn có bao nhiêu đảng viên?”" in reply
    assert "1.789" in page.locator("#sources").text_content()  # cited, maybe folded
    shot(page, "follow-up.png")


@pytest.mark.browser
def test_a_refusal_keeps_the_nearest_passages_folded_and_opens_no_article(browser, app_url):
    with opened(browser, app_url) as page:  # a new chat: no earlier turn to follow up on
        check_refusal(page)


def check_refusal(page) -> None:
    reply = ask(page, "Giá vàng hôm nay bao nhiêu?")
    assert NOT_FOUND in reply
    sources = page.locator("#sources")
    assert sources.locator(".qa-main").count() == 0
    fold = sources.locator("details.qa-more")
    assert fold.count() == 1 and fold.get_attribute("open") is None
    assert fold.locator("summary").inner_text().startswith("Các đoạn gần nhất")
    open_article(page)  # nothing to read until one is picked
    assert "Chọn một bài được trích dẫn" in page.locator("#article").inner_text()
    assert page.input_value("#article-pick input") == ""
    shot(page, "abstention.png")


@pytest.mark.browser
def test_an_ambiguous_question_is_answered_with_a_question(page):
    clear_chat(page)
    reply = ask(page, "Phường này có bao nhiêu đảng viên?")
    assert reply.startswith("Bạn hỏi về phường nào?")
    wards = page.locator('#chat [data-testid="bot"]').last.locator("li").all_inner_texts()
    assert "phường Kỳ Sơn" in wards and len(wards) >= 2
    assert "Chưa có nguồn" in page.locator("#sources").inner_text()
    shot(page, "clarification.png")
    reply = ask(page, "phường Kỳ Sơn")
    assert "Hiểu câu hỏi là: “Phường Kỳ Sơn có bao nhiêu đảng viên?”" in reply
    assert "1.789" in page.locator("#sources").text_content()


@pytest.mark.browser
def test_a_question_over_the_limit_stays_in_the_box_with_the_message_beside_it(page):
    clear_chat(page)
    long_question = ("Ai được chỉ định làm Bí thư Đảng ủy phường Kỳ Sơn? " * 30)[:1200]
    page.fill("#question textarea", long_question)
    count, note = page.locator("#question-count"), page.locator("#question-note")
    assert "1.200/1.000 ký tự" in count.inner_text() and "quá dài" in count.inner_text()
    page.press("#question textarea", "Enter")
    page.wait_for_function(
        "document.querySelector('#question-note').innerText.includes('Câu hỏi quá dài')")
    assert "Câu hỏi quá dài (1.200 ký tự); giới hạn là 1.000 ký tự" in note.inner_text()
    assert page.input_value("#question textarea") == long_question  # nothing lost
    assert page.locator('#chat [data-testid="user"]').count() == 0
    shot(page, "long-question.png")
    ask(page, long_question[:LIMIT].rsplit("?", 1)[0] + "?")  # shortened: it goes
    assert "0/1.000 ký tự" in count.inner_text() and "quá dài" not in note.inner_text()


@pytest.mark.browser
def test_an_oversized_file_is_refused_before_it_is_sent(page, tmp_path):
    big = tmp_path / "qua-lon.txt"
    big.write_text("Tin dài. " * (6 * 2**20 // 9), encoding="utf-8")  # 6 MB: the limit is 5
    sent = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" and r.url.split("?")[
        0].endswith("/gradio_api/upload") else None)
    open_tab(page, "Bài báo của bạn")
    page.set_input_files("#upload input[type=file]", str(big))
    toast = page.get_by_text("quá lớn: giới hạn là 5 MB mỗi tệp. Tệp không được gửi lên.")
    toast.first.wait_for()
    assert "qua-lon.txt" in toast.first.inner_text()
    assert sent == []  # not one byte of it went to the server
    assert "Chưa có bài báo nào" in page.locator("#library").inner_text()
    toast.first.wait_for(state="detached")  # it goes by itself after a few seconds
    open_tab(page, "Hỏi đáp")


@pytest.mark.browser
def test_an_upload_is_searchable_at_once_then_removed_for_good(page, tmp_path, app_url):
    import httpx

    article = tmp_path / "tin xa hoa binh.txt"
    article.write_text(long_article(), encoding="utf-8")
    stored: list[str] = []
    page.on("response", lambda r: stored.extend(r.json())
            if r.url.split("?")[0].endswith("/gradio_api/upload") and r.ok else None)
    open_tab(page, "Bài báo của bạn")
    page.set_input_files("#upload input[type=file]", str(article))
    page.wait_for_function(
        "document.querySelector('#upload-notice').innerText.includes('tìm được theo từ khóa')")
    notice = page.locator("#upload-notice").inner_text()
    assert "Đã thêm “tin_xa_hoa_binh.txt”: 1 bài báo" in notice
    # one progress indicator, in the status line: the stage and how long is left
    status = page.locator("#status")
    page.wait_for_function(
        "document.querySelector('#status').innerText.includes('Đang tính vector ngữ nghĩa')")
    assert page.locator(".qa-bar").count() == 1 and status.locator(".qa-bar").count() == 1
    overlays = page.evaluate("""() => [...document.querySelectorAll(
        '#upload .eta-bar, #library .eta-bar, #upload-notice .eta-bar, #status .eta-bar, '
        + '.progress-text')].map(e => (e.closest('[id]') || {}).id + ': ' + e.className)""")
    assert overlays == []  # names where a Gradio progress overlay shows
    assert "Xã Hòa Bình bầu Chủ tịch" in page.locator("#library").inner_text()
    shot(page, "library.png")

    # a question meanwhile: answered from what is ready, with a line naming the upload
    open_tab(page, "Hỏi đáp")
    clear_chat(page)
    if "Đang tính vector" in status.inner_text():
        reply = ask(page, NEWS_QUESTION)
        assert "Đang lập chỉ mục: “tin_xa_hoa_binh.txt” mới tìm được theo từ khóa" in reply
        assert NEWS_TITLE in page.locator("#sources .qa-main").inner_text()
        shot(page, "indexing.png")
    else:
        pytest.fail("the vectors were computed before a question could be asked: make the "
                    "article longer")
    page.wait_for_function("""() => { const s = document.querySelector('#status').innerText;
                                      return s.includes('Sẵn sàng') && !s.includes('Đang'); }""",
                           timeout=INDEXING_TIMEOUT_MS)
    reply = ask(page, NEWS_QUESTION)
    assert "Đang lập chỉ mục" not in reply
    main = page.locator("#sources .qa-main")
    assert NEWS_TITLE in main.inner_text() and "Lường Văn Khiêm" in main.inner_text()
    open_article(page)
    page.locator("#article").locator("mark").first.wait_for()
    assert "<img src=x onerror=" in page.locator("#article").inner_text()  # shown as text
    assert page.locator("#article img, #sources img, #chat .message img").count() == 0
    assert page.evaluate("window.__xss") is None
    shot(page, "upload.png")

    # removed: gone from the library, the index, and the server's files
    assert stored, "the page's upload was not seen"
    open_tab(page, "Bài báo của bạn")
    page.click("#library-pick input")
    page.get_by_role("option", name="tin_xa_hoa_binh.txt").click()
    page.click("#remove")
    page.wait_for_function(
        "document.querySelector('#upload-notice').innerText.includes('Đã xóa')")
    assert "Chưa có bài báo nào" in page.locator("#library").inner_text()
    for path in stored:
        assert not Path(path).exists()
        gone = httpx.get(f"{app_url}/gradio_api/file={path}", timeout=30)
        assert gone.status_code == 404 and "không còn" in gone.text
    open_tab(page, "Hỏi đáp")
    reply = ask(page, NEWS_QUESTION)
    assert NEWS_TITLE not in page.locator("#sources").inner_text()
