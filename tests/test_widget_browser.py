"""The embeddable widget on a city's page of another origin, in headless Chromium, against the real stack (Rasa
and the app): open the launcher, ask, rate, pick a clarify option, never a dead end, elderly mode, history
after a reload, and a keyboard-only pass. Screenshots go to test-artifacts/."""
from __future__ import annotations

import functools
import http.server
import os
import re
import socket
import threading

import pytest

from tests.browser import ARTIFACTS, chromium
from tests.conftest import make_settings
from tests.stack import run_stack

pytestmark = pytest.mark.slow
APP_PORT, RASA_PORT = 18160, 15165
HOST_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>某市人民政府门户网站</title></head>
<body><h1>某市人民政府</h1><nav><a href="#news">政务公开</a> <a href="#services">办事服务</a></nav>
<p>欢迎访问。办事遇到问题，可点击右下角“在线咨询”。</p>
<script src="http://127.0.0.1:{app_port}/static/chat/widget.js" data-govbot-title="市政务服务 智能客服" async></script>
</body></html>"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def host_origin(tmp_path_factory):
    """A city page on a second origin (another port: cross-origin, same site, as over plain http locally)."""
    root = tmp_path_factory.mktemp("city")
    (root / "index.html").write_text(HOST_PAGE.format(app_port=APP_PORT), encoding="utf-8")
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, host_origin):
    before = os.environ.get("GOVBOT_CHAT_FRAME_ANCESTORS")
    os.environ["GOVBOT_CHAT_FRAME_ANCESTORS"] = f"'self' {host_origin}"  # the app process reads it at start
    try:
        yield from run_stack(make_settings(tmp_path_factory.mktemp("widget"), port=APP_PORT, rasa_port=RASA_PORT))
    finally:
        if before is None:
            os.environ.pop("GOVBOT_CHAT_FRAME_ANCESTORS")
        else:
            os.environ["GOVBOT_CHAT_FRAME_ANCESTORS"] = before


@pytest.fixture
def browser():

    with chromium() as browser:
        yield browser


def chat_frame(page):
    return page.frame_locator("#govbot-panel iframe")


def test_widget_on_a_city_page_asks_rates_clarifies_and_switches_to_elderly_mode(stack, host_origin, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 820})
    page.goto(host_origin)
    launcher = page.locator("#govbot-launcher")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    expect(page.locator("#govbot-panel")).to_be_visible()
    chat = chat_frame(page)
    expect(chat.locator("#log")).to_contain_text("您好！我是政务通智能客服")
    expect(chat.locator("#chips button").first).to_be_visible()  # hot questions on an empty chat
    expect(chat.locator("#text")).to_be_focused()  # the frame focused its input when the widget opened it

    chat.locator("#text").fill("护照怎么办")
    chat.locator("#text").press("Enter")
    expect(chat.locator("#log")).to_contain_text("普通护照申领", timeout=30000)
    expect(chat.locator("#chips")).to_be_hidden()
    chat.get_by_role("button", name="满意", exact=True).click()
    expect(chat.locator("#log")).to_contain_text("感谢您的评价", timeout=30000)

    chat.locator("#text").fill("证件丢了")
    chat.locator("#text").press("Enter")
    expect(chat.locator("#log")).to_contain_text("您想咨询的是下面哪一项", timeout=30000)
    options = chat.get_by_role("group", name="可选操作").last
    expect(options.get_by_role("button", name="转人工服务")).to_be_visible()  # never a dead end
    picked = options.get_by_role("button").first
    title = picked.inner_text()
    picked.click()
    expect(chat.locator(".msg.bot", has_text=f"【{title}】")).to_be_visible(timeout=30000)
    page.screenshot(path=str(ARTIFACTS / "widget-open.png"))

    chat.locator("#text").fill("营业直照")  # a typo of a service name: the closest items and 转人工
    chat.locator("#text").press("Enter")
    expect(chat.locator(".msg.bot").last.get_by_role("button", name="转人工服务")).to_be_visible(timeout=30000)
    assert chat.locator(".msg.bot").last.get_by_role("button").count() >= 3

    chat.locator("#elderly").click()
    expect(chat.locator("#elderly")).to_have_attribute("aria-pressed", "true")
    expect(chat.locator("body")).to_have_css("font-size", "22px")
    chat.locator("#text").fill("身份证丢了怎么补")
    chat.locator("#text").press("Enter")
    answer = chat.locator(".msg.bot").filter(has_text="居民身份证遗失补领").last
    more = answer.get_by_role("button", name="查看详细")
    expect(more).to_be_visible(timeout=30000)  # short answer first
    expect(answer.locator(".rest")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "widget-elderly.png"))
    more.click()
    expect(answer.locator(".rest")).to_be_visible()
    expect(more).to_be_hidden()

    page.reload()  # history restored, elderly mode remembered
    page.locator("#govbot-launcher").click()
    expect(chat.locator("#log")).to_contain_text("普通护照申领", timeout=15000)
    expect(chat.locator("#log")).to_contain_text("身份证丢了怎么补")
    expect(chat.locator("body")).to_have_class(re.compile(r"\belderly\b"))
    chat.locator("#close").click()
    expect(page.locator("#govbot-panel")).to_be_hidden()
    expect(page.locator("#govbot-launcher")).to_be_focused()

    mobile = browser.new_page(viewport={"width": 390, "height": 780}, is_mobile=True, has_touch=True)
    mobile.goto(host_origin)
    mobile.locator("#govbot-launcher").click()
    expect(chat_frame(mobile).locator("#chips button").first).to_be_visible(timeout=15000)
    mobile.screenshot(path=str(ARTIFACTS / "widget-mobile.png"))


def test_widget_keyboard_only(stack, host_origin, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 820})
    page.goto(host_origin)
    page.locator("#govbot-launcher").wait_for()

    def tab_to(is_there, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if is_there():
                return
        raise AssertionError("Tab never reached it")

    tab_to(lambda: page.evaluate("document.activeElement && document.activeElement.id") == "govbot-launcher")
    page.keyboard.press("Enter")
    chat = chat_frame(page)
    expect(chat.locator("#text")).to_be_focused(timeout=15000)
    page.keyboard.type("护照怎么办")
    page.keyboard.press("Enter")
    expect(chat.locator("#log")).to_contain_text("普通护照申领", timeout=30000)
    frame = next(f for f in page.frames if "embed=1" in f.url)

    def focused_text() -> str:
        return frame.evaluate("document.activeElement ? document.activeElement.textContent.trim() : ''")

    tab_to(lambda: focused_text() == "满意")
    outline = frame.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows where focus is"
    page.keyboard.press("Enter")
    expect(chat.locator("#log")).to_contain_text("感谢您的评价", timeout=30000)
    tab_to(lambda: focused_text() == "长辈模式")
    page.keyboard.press("Enter")
    expect(chat.locator("body")).to_have_class(re.compile(r"\belderly\b"))
    page.screenshot(path=str(ARTIFACTS / "widget-keyboard.png"))
    tab_to(lambda: frame.evaluate("document.activeElement.id") == "close")
    page.keyboard.press("Enter")
    expect(page.locator("#govbot-panel")).to_be_hidden()
    expect(page.locator("#govbot-launcher")).to_be_focused()
