"""The real app in headless Chromium (Debian's /usr/bin/chromium through Playwright): ask, follow
up, abstain, upload an article and ask about it. Screenshots go to docs/screenshots/.

Outside CI the module is skipped where Chromium is missing; in CI (which installs it) it fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_app import KY_SON, KY_SON_TITLE, running_app

from qa.types import NOT_FOUND

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
TIMEOUT_MS = 60_000
IN_CI = bool(os.environ.get("CI"))

if not IN_CI and not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is missing: install it with `apt-get install chromium` to run the "
                "browser tests", allow_module_level=True)
if not IN_CI:
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

UPLOADED = """Xã Hòa Bình bầu Chủ tịch Ủy ban nhân dân mới

Ngày 3/10, Hội đồng nhân dân xã Hòa Bình tổ chức kỳ họp bất thường. Với 28/29 đại biểu tán \
thành, ông Lường Văn Khiêm được bầu giữ chức Chủ tịch Ủy ban nhân dân xã Hòa Bình nhiệm kỳ \
2021-2026.

Trước đó, ông Khiêm là Phó Bí thư Đảng ủy xã. Xã Hòa Bình có 4.215 hộ dân.

Bạn đọc gửi mã <img src=x onerror="window.__xss=1"> và <script>window.__xss=2</script> vào \
bài viết này; ứng dụng phải hiện chúng như chữ.
"""


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("browser-app")) as url:
        yield url


@pytest.fixture(scope="module")
def page(app_url):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run installs it with apt-get")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 980}, locale="vi-VN")
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
        browser.close()
        assert outside == [], f"requests outside 127.0.0.1: {outside}"


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


@pytest.mark.browser
def test_answer_with_sources(page):
    reply = ask(page, KY_SON)
    assert "Hoàng Văn Minh" in reply and "độ tin cậy" in reply and "[1]" in reply
    sources = page.locator("#sources")
    assert KY_SON_TITLE in sources.inner_text()
    assert sources.locator("mark").first.inner_text() == "Hoàng Văn Minh"
    assert sources.locator(".qa-ev").count() >= 1
    page.click("#article-box button, #article-box .label-wrap")  # open "Đọc toàn bài"
    article = page.locator("#article")
    article.locator("mark").first.wait_for()
    assert KY_SON_TITLE in article.inner_text()
    assert article.locator(".qa-passage").count() >= 1
    shot(page, "answer-with-sources.png")


@pytest.mark.browser
def test_follow_up(page):
    clear_chat(page)
    ask(page, "Ai được chỉ định làm Bí thư Đảng ủy phường Kỳ Sơn?")
    reply = ask(page, "Phường này có bao nhiêu đảng viên?")
    assert "1.789" in reply
    assert page.locator("#chat .qa-cite").count() >= 2
    shot(page, "follow-up.png")


@pytest.mark.browser
def test_abstention(page):
    clear_chat(page)
    reply = ask(page, "Đội tuyển bóng đá Việt Nam vô địch AFF Cup năm nào?")
    assert NOT_FOUND in reply and "Các đoạn gần nhất" in reply
    assert "các đoạn gần nhất" in page.locator("#sources").inner_text()
    shot(page, "abstention.png")


@pytest.mark.browser
def test_upload_ask_and_remove(page, tmp_path):
    article = tmp_path / "xa hoa binh.txt"
    article.write_text(UPLOADED, encoding="utf-8")
    page.get_by_role("tab", name="Bài báo của bạn").click()
    page.set_input_files("#upload input[type=file]", str(article))
    page.wait_for_function(
        "document.querySelector('#upload-notice').innerText.includes('Đã cập nhật chỉ mục')")
    notice = page.locator("#upload-notice").inner_text()
    assert "Đã thêm “xa_hoa_binh.txt”: 1 bài báo" in notice
    assert "Xã Hòa Bình bầu Chủ tịch" in page.locator("#library").inner_text()
    shot(page, "library.png")

    page.get_by_role("tab", name="Hỏi đáp").click()
    clear_chat(page)
    reply = ask(page, "Ai được bầu giữ chức Chủ tịch Ủy ban nhân dân xã Hòa Bình?")
    assert "Lường Văn Khiêm" in reply
    assert "Xã Hòa Bình bầu Chủ tịch" in page.locator("#sources").inner_text()
    page.locator("#article").locator("mark").first.wait_for()
    assert "<img src=x onerror=" in page.locator("#article").inner_text()  # shown as text
    assert page.locator("#article img, #sources img, #chat .message img").count() == 0
    assert page.evaluate("window.__xss") is None
    shot(page, "upload.png")

    page.get_by_role("tab", name="Bài báo của bạn").click()
    page.click("#library-pick input")
    page.get_by_role("option", name="xa_hoa_binh.txt").click()
    page.click("#remove")
    page.wait_for_function(
        "document.querySelector('#upload-notice').innerText.includes('Đã xóa')")
    assert "Chưa có bài báo nào" in page.locator("#library").inner_text()
    page.get_by_role("tab", name="Hỏi đáp").click()
    reply = ask(page, "Ai được bầu giữ chức Chủ tịch Ủy ban nhân dân xã Hòa Bình?")
    assert "Lường Văn Khiêm" not in reply
