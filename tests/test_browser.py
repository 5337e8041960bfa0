"""The web chat page in a real browser (Debian's chromium, driven by Playwright)."""
from __future__ import annotations

import shutil

import pytest

from tests.conftest import make_settings, need_service
from tests.stack import run_stack

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("browser"), port=18100, rasa_port=15105)
    yield from run_stack(settings)


def test_citizen_asks_in_the_web_chat_and_clicks_a_button(stack, tmp_path):
    need_service(shutil.which("chromium") is not None, "Debian chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{stack.settings.port}/")
        page.fill("#text", "护照怎么办")
        page.click("button[type=submit]")
        page.wait_for_selector("text=普通护照申领", timeout=30000)
        page.get_by_role("button", name="满意", exact=True).click()
        page.wait_for_selector("text=感谢您的评价", timeout=30000)
        page.fill("#text", "证件丢了")
        page.click("button[type=submit]")
        page.wait_for_selector("text=您想咨询的是下面哪一项", timeout=30000)
        page.screenshot(path=str(tmp_path / "chat.png"), full_page=True)
        browser.close()
