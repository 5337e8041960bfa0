"""The web chat page in a real browser (Debian's chromium, driven by Playwright)."""
from __future__ import annotations


import pytest

from tests.browser import ARTIFACTS, chromium, served
from tests.conftest import make_services, make_settings
from tests.stack import run_stack

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("browser"), port=18100, rasa_port=15105)
    yield from run_stack(settings)


def test_citizen_asks_in_the_web_chat_and_clicks_a_button(stack, tmp_path):

    with chromium() as browser:
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


@pytest.fixture(scope="module")
def app_only(tmp_path_factory, encoder):
    """The app alone under uvicorn (the editor needs no Rasa), with an editor who has a password."""
    from core.auth import add_user
    from govbot.app import create_app

    services = make_services(tmp_path_factory.mktemp("editor"), encoder)
    add_user(services.db, "li-editor", "editor", password="correct horse battery")
    with served(create_app(services.settings, services)) as url:
        yield url


def test_editor_signs_in_loads_guides_without_a_token_and_signs_out(app_only):
    from playwright.sync_api import expect

    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{app_only}/editor")
        assert page.url == f"{app_only}/login?next=/editor"
        page.fill("#name", "li-editor")
        page.fill("#password", "wrong password")
        page.click("button[type=submit]")
        expect(page.locator("#msg")).to_contain_text("用户名或密码错误")
        page.fill("#password", "correct horse battery")
        page.screenshot(path=str(ARTIFACTS / "signin-login.png"))
        page.click("button[type=submit]")
        page.wait_for_url(f"{app_only}/editor")
        expect(page.locator("#who")).to_have_text("li-editor（编辑）")
        expect(page.locator("#list .item")).to_have_count(80)  # the guides, loaded with the session cookie
        assert page.locator("#token").count() == 0
        page.locator("#list .item", has_text="普通护照申领").click()
        expect(page.locator("#meta")).to_contain_text("GA-CR-01")
        page.click("#save")  # a write: the page sends the CSRF header itself
        expect(page.locator("#msg")).to_have_text("草稿已保存")
        page.screenshot(path=str(ARTIFACTS / "signin-editor.png"), full_page=True)
        page.click("#signout")
        page.wait_for_url(f"{app_only}/login?next=%2Feditor")
        page.goto(f"{app_only}/editor")
        assert page.url.startswith(f"{app_only}/login")  # the session is gone
