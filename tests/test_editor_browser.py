"""The knowledge-base editor page in a real browser (Debian's chromium, Playwright): sign in, edit, save with
the revision loaded, and see a clear 409 when someone else saved in between. The app runs alone (no Rasa)."""
from __future__ import annotations

import json
import shutil
import threading

import httpx
import pytest

from tests.conftest import need_service

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PORT = 18131
PASSWORD = "editor-browser-pass-1"


@pytest.fixture
def app_server(services):
    import uvicorn

    from core.auth import add_user
    from govbot.app import create_app

    add_user(services.db, "web-editor", "editor", password=PASSWORD)
    token = add_user(services.db, "api-editor", "editor")
    server = uvicorn.Server(uvicorn.Config(create_app(services.settings, services), host="127.0.0.1", port=PORT,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", headers={"Authorization": f"Bearer {token}"},
                          timeout=30) as api:
            for _ in range(600):
                if server.started:
                    break
                thread.join(0.1)
            yield api
    finally:
        server.should_exit = True
        thread.join(30)


def test_editor_saves_with_its_revision_and_reports_a_concurrent_save(app_server):
    need_service(shutil.which("chromium") is not None, "Debian chromium (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    code = "GA-CR-01"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{PORT}/editor")
        page.fill("#name", "web-editor")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/editor", timeout=30000)
        page.fill("#q", code)
        page.click("#search")
        page.click(f"#list >> text={code}", timeout=30000)
        expect(page.locator("#meta")).to_contain_text(code, timeout=30000)

        def save_with(fee: str) -> None:
            doc = json.loads(page.input_value("#doc"))
            page.fill("#doc", json.dumps({**doc, "fee": fee}, ensure_ascii=False))
            page.click("#save")

        save_with("浏览器第一次保存")
        expect(page.locator("#msg")).to_have_text("草稿已保存", timeout=30000)
        expect(page.locator("#meta")).to_contain_text("web-editor", timeout=30000)

        current = app_server.get(f"/api/v1/kb/guides/{code}")  # another editor saves meanwhile
        other = app_server.put(f"/api/v1/kb/guides/{code}", headers={"If-Match": current.headers["ETag"]},
                               json={**current.json()["draft"], "fee": "接口保存"})
        assert other.status_code == 200, other.text

        save_with("浏览器第二次保存")  # the page still holds the older revision
        expect(page.locator("#msg")).to_contain_text("api-editor", timeout=30000)
        expect(page.locator("#msg")).to_contain_text("修订")
        assert app_server.get(f"/api/v1/kb/guides/{code}").json()["draft"]["fee"] == "接口保存"

        page.click(f"#list >> text={code}")  # reopen: the newest revision
        expect(page.locator("#meta")).to_contain_text("api-editor", timeout=30000)
        save_with("重新打开后保存")
        expect(page.locator("#msg")).to_have_text("草稿已保存", timeout=30000)
        assert app_server.get(f"/api/v1/kb/guides/{code}").json()["draft"]["fee"] == "重新打开后保存"
        browser.close()
