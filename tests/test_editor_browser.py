"""The knowledge-base editor page in a real browser (Debian's chromium, Playwright). An editor signs in, edits
a material row in the form (a bad row first: the API's message shows under the field, in Chinese), submits;
a reviewer signs in, finds it in the review queue with the change highlighted, approves; the bot then answers
with the new material. Saves carry the revision loaded and a concurrent save is reported (409). The app runs
alone (no Rasa): the bot's answer is asked through the action webhook, as Rasa would."""
from __future__ import annotations

import time

import httpx
import pytest

from tests.browser import ARTIFACTS, chromium, served

pytestmark = pytest.mark.slow
PORT = 18131
BASE = f"http://127.0.0.1:{PORT}"
PASSWORD = "editor-browser-pass-1"
CODE = "GA-CR-01"  # 普通护照申领; its second material is 近期证件照片
NEW_MATERIAL = "近期免冠彩色证件照片"


@pytest.fixture
def app_server(services):
    from core.auth import add_user
    from govbot.app import create_app

    add_user(services.db, "web-editor", "editor", password=PASSWORD)
    add_user(services.db, "web-reviewer", "reviewer", password=PASSWORD)
    token = add_user(services.db, "api-editor", "editor")
    with served(create_app(services.settings, services), PORT) as base, \
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as api:
        api.app_services = services
        yield api


@pytest.fixture
def browser():

    with chromium() as browser:
        yield browser


def sign_in(page, name: str) -> None:
    page.goto(f"{BASE}/editor")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/editor", timeout=30000)


def open_guide(page, code: str) -> None:
    from playwright.sync_api import expect

    page.fill("#q", code)
    page.click("#search")
    page.click(f"#list .item[data-code='{code}']", timeout=30000)
    expect(page.locator("#meta")).to_contain_text(code, timeout=30000)


def bot_answer(services, question: str) -> str:
    """What the bot says, through the action webhook as Rasa calls it (intent: asks about materials)."""
    payload = {"next_action": "action_answer", "sender_id": "browser-citizen", "version": "3.6.21", "domain": {},
               "tracker": {"sender_id": "browser-citizen", "slots": {}, "events": [{"event": "user", "text": question}],
                           "latest_message": {"text": question, "intent": {"name": "ask_attribute"}, "entities": []}}}
    r = httpx.post(f"{BASE}/rasa/webhook", params={"token": services.settings.action_token}, json=payload, timeout=30)
    assert r.status_code == 200, r.text
    return "\n".join(m.get("text", "") for m in r.json()["responses"])


def test_edit_a_material_row_submit_approve_as_another_user_and_the_bot_answers_it(app_server, browser):
    from playwright.sync_api import expect

    services = app_server.app_services
    assert NEW_MATERIAL not in bot_answer(services, "办护照要带什么材料")
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    sign_in(page, "web-editor")
    expect(page.locator("#who")).to_contain_text("web-editor（编辑）")
    open_guide(page, CODE)
    name = page.locator('[data-field="materials.1.name"]')
    expect(name).to_have_value("近期证件照片")

    name.fill("")  # a row with notes but no name: the API's 422 lands under the field, in Chinese
    page.click("#save")
    expect(page.locator('[data-error="materials.1.name"]')).to_have_text("不能为空", timeout=30000)
    expect(page.locator("#msg")).to_contain_text("有 1 处需要修改")
    expect(name).to_have_class("invalid")

    name.fill(NEW_MATERIAL)
    page.fill('[data-field="materials.1.count"]', "2")
    page.click("button[data-add=materials]")  # add a row, then remove it again
    expect(page.locator("#materials tr")).to_have_count(5)
    page.locator("#materials tr").nth(4).locator("button.remove").click()
    expect(page.locator("#materials tr")).to_have_count(4)
    page.click("#save")
    expect(page.locator("#msg")).to_have_text("草稿已保存", timeout=30000)
    page.screenshot(path=str(ARTIFACTS / "editor-form.png"), full_page=True)
    page.click("#submit")
    expect(page.locator("#msg")).to_contain_text("已提交审核", timeout=30000)
    draft = app_server.get(f"/api/v1/kb/guides/{CODE}").json()
    assert draft["status"] == "in_review" and draft["draft"]["materials"][1] == {
        "name": NEW_MATERIAL, "form": "现场采集", "count": 2, "notes": "受理窗口免费现场拍照，无需自带"}

    page.click("#signout")
    page.wait_for_url("**/login**", timeout=30000)
    sign_in(page, "web-reviewer")
    expect(page.locator("#review-count")).to_have_text("1", timeout=30000)
    page.click("#tabs button[data-tab=review]")
    page.click(f"#queue .item[data-code='{CODE}']", timeout=30000)
    expect(page.locator("#diff ins").first).to_be_visible(timeout=30000)
    assert page.locator("#diff ins").all_inner_texts() == ["免冠彩色", "2"]  # word level, in the changed line
    assert page.locator("#diff del").all_inner_texts() == ["1"]
    expect(page.locator("#diff .line.changed")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "editor-review.png"), full_page=True)
    page.click("#approve")
    expect(page.locator("#review-msg")).to_contain_text("已发布 v2", timeout=30000)

    deadline = time.monotonic() + 5  # the live index follows the publish within about a second
    while NEW_MATERIAL not in (text := bot_answer(services, "办护照要带什么材料")):
        assert time.monotonic() < deadline, text
        time.sleep(0.1)
    assert f"{NEW_MATERIAL}（现场采集2份）" in text

    page.click("#tabs button[data-tab=guides]")  # the preview: how the bot answers this guide's FAQ
    open_guide(page, CODE)
    page.click("#preview")
    expect(page.locator("#preview-rows tr.summary")).to_contain_text("个会直接答成本事项", timeout=60000)
    assert page.locator("#preview-rows .decision.answer").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "editor-preview.png"), full_page=True)


def test_editor_saves_with_its_revision_and_reports_a_concurrent_save(app_server, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    sign_in(page, "web-editor")
    open_guide(page, CODE)

    def save_with(fee: str) -> None:
        page.fill('[data-field="fee"]', fee)
        page.click("#save")

    save_with("浏览器第一次保存")
    expect(page.locator("#msg")).to_have_text("草稿已保存", timeout=30000)
    expect(page.locator("#meta")).to_contain_text("web-editor", timeout=30000)

    current = app_server.get(f"/api/v1/kb/guides/{CODE}")  # another editor saves meanwhile
    other = app_server.put(f"/api/v1/kb/guides/{CODE}", headers={"If-Match": current.headers["ETag"]},
                           json={**current.json()["draft"], "fee": "接口保存"})
    assert other.status_code == 200, other.text

    save_with("浏览器第二次保存")  # the page still holds the older revision
    expect(page.locator("#msg")).to_contain_text("api-editor", timeout=30000)
    expect(page.locator("#msg")).to_contain_text("修订")
    expect(page.locator("#msg")).to_contain_text("收费标准")  # the field that differs, by its label
    assert app_server.get(f"/api/v1/kb/guides/{CODE}").json()["draft"]["fee"] == "接口保存"

    open_guide(page, CODE)  # reopen: the newest revision
    expect(page.locator("#meta")).to_contain_text("api-editor", timeout=30000)
    expect(page.locator('[data-field="fee"]')).to_have_value("接口保存")
    save_with("重新打开后保存")
    expect(page.locator("#msg")).to_have_text("草稿已保存", timeout=30000)
    assert app_server.get(f"/api/v1/kb/guides/{CODE}").json()["draft"]["fee"] == "重新打开后保存"


def test_the_dictionary_tab_adds_and_removes_an_alias(app_server, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    sign_in(page, "web-editor")
    page.click("#tabs button[data-tab=aliases]")
    expect(page.locator("#alias-rows tr").first).to_be_visible(timeout=30000)
    page.fill("#alias-term", "产权证")
    page.fill("#alias-canonical", "不动产权证书")
    page.click("#alias-form button[type=submit]")
    expect(page.locator('[data-alias-error="term"]')).to_contain_text("一部分", timeout=30000)
    page.fill("#alias-term", "出生纸")
    page.fill("#alias-canonical", "出生医学证明")
    page.click("#alias-form button[type=submit]")
    expect(page.locator("#alias-msg")).to_contain_text("已添加", timeout=30000)
    page.fill("#alias-filter", "出生纸")
    expect(page.locator("#alias-rows tr")).to_have_count(1)
    page.screenshot(path=str(ARTIFACTS / "editor-aliases.png"), full_page=True)
    page.on("dialog", lambda d: d.accept())
    page.locator("#alias-rows tr button.remove").click()
    expect(page.locator("#alias-msg")).to_contain_text("已删除", timeout=30000)
    assert all(a["term"] != "出生纸" for a in app_server.get("/api/v1/kb/aliases").json())
    page.click("#tabs button[data-tab=calibration]")
    expect(page.locator("#calibration")).to_contain_text("使用中", timeout=30000)
    page.screenshot(path=str(ARTIFACTS / "editor-calibration.png"), full_page=True)


def test_the_safety_tab_edits_a_topic_and_shows_the_apis_messages(app_server, browser):
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    sign_in(page, "web-editor")
    page.click("#tabs button[data-tab=safety]")
    row = page.locator("#safety-rows tr", has_text="self_harm")
    expect(row).to_contain_text("12356", timeout=30000)
    row.click()
    expect(page.locator("#sf-lines")).to_have_value("心理援助热线 12356 24小时\n报警 110 有危险时\n急救 120")
    page.fill("#sf-lines", "心理援助热线 拨打12356")
    page.click("#safety-form button[type=submit]")
    expect(page.locator("#safety-msg")).to_contain_text("热线第1行·号码：电话号码只能含数字", timeout=30000)
    page.fill("#sf-lines", "本市心理危机干预热线 0571-85029595 24小时\n报警 110")
    page.click("#safety-form button[type=submit]")
    expect(page.locator("#safety-msg")).to_contain_text("已保存", timeout=30000)
    page.screenshot(path=str(ARTIFACTS / "editor-safety.png"), full_page=True)
    saved = app_server.get("/api/v1/kb/safety-topics/self_harm").json()
    assert [(l["number"], l["note"]) for l in saved["lines"]] == [("0571-85029595", "24小时"), ("110", "")]
    assert saved["updated_by"] == "web-editor"
