"""Security headers on every response, clear Chinese 4xx bodies, and zero-width characters stripped."""
from __future__ import annotations

import dataclasses
import re

import pytest
from fastapi.testclient import TestClient

from bot.rasa_client import BotTurn
from govbot.app import create_app
from retrieval.normalize import Normalizer
from core.auth import add_user
from govbot.services import Services
from tests.conftest import auth, make_settings

_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


@pytest.fixture(scope="module")
def services(tmp_path_factory, encoder):
    """One app for the module: these tests only read (the sample knowledge base loads once)."""
    svc = Services(make_settings(tmp_path_factory.mktemp("pages")))
    svc.__dict__["encoder"] = encoder  # cached_property slot: reuse the loaded model
    svc.live_index  # noqa: B018
    add_user(svc.db, "test-editor", "editor", token="editor-token")
    return svc


@pytest.fixture(scope="module")
def app_client(services):
    with TestClient(create_app(services.settings, services)) as client:
        yield client


def _csp(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] if " " in d else "" for d in map(str.strip, policy.split(";"))}


@pytest.mark.parametrize("method,path,headers", [
    ("GET", "/", {}), ("GET", "/static/chat/chat.js", {}), ("POST", "/api/v1/chat", {}),
    ("GET", "/editor", {}), ("GET", "/api/v1/kb/guides", {}), ("GET", "/api/v1/kb/guides", auth("editor")),
    ("GET", "/healthz", {}), ("GET", "/no-such-page", {}),
])
def test_every_response_carries_the_security_headers(app_client, method, path, headers):
    r = app_client.request(method, path, headers=headers, json={} if method == "POST" else None)
    csp = _csp(r)
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["script-src"] == "'self'" and csp["style-src"] == "'self'" and csp["object-src"] == "'none'"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", ["/editor", "/api/v1/kb/guides", "/api/v1/kb/search?q=护照", "/login"])
def test_operator_pages_may_not_be_framed(app_client, path):
    r = app_client.get(path)
    assert _csp(r)["frame-ancestors"] == "'none'" and r.headers["x-frame-options"] == "DENY"


def test_the_chat_page_may_be_framed_by_the_configured_origins(services):
    assert _csp(TestClient(create_app(services.settings, services)).get("/"))["frame-ancestors"] == "'self'"
    city = dataclasses.replace(services.settings, chat_frame_ancestors="'self' https://www.example.gov.cn")
    r = TestClient(create_app(city, services)).get("/")
    assert _csp(r)["frame-ancestors"] == "'self' https://www.example.gov.cn" and "x-frame-options" not in r.headers


@pytest.mark.parametrize("path", ["/", "/editor", "/login"])
def test_pages_have_no_inline_code_the_policy_would_block(app_client, path):
    html = app_client.get(path).text
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert re.search(r"<style\b|\sstyle=|\son[a-z]+=|javascript:", html, re.IGNORECASE) is None


def test_invalid_json_names_the_line_and_column_in_chinese(app_client):
    r = app_client.post("/api/v1/chat", content='{"sender_id": "a",\n "message": }',
                        headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"] == "请求体不是合法的 JSON：第2行第13列附近缺少取值"
    r = app_client.post("/api/v1/chat", content="{'message': 1}", headers={"Content-Type": "application/json"})
    assert r.json()["detail"] == "请求体不是合法的 JSON：第1行第2列附近字段名应使用双引号"


def test_invalid_json_on_an_operator_route_is_explained_in_english_too(app_client):
    r = app_client.post("/api/v1/kb/guides", content='{"code": "X-1",}',
                        headers={**auth("editor"), "Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"].startswith("请求体不是合法的 JSON：第1行第")
    assert "request body is not valid JSON: line 1, column" in r.json()["detail"]


@pytest.mark.parametrize("method,path,body,expected", [
    ("GET", "/api/v1/chat", None, "不支持该请求方法"),
    ("POST", "/api/v1/chat/nope", {}, "找不到该地址"),
    ("POST", "/api/v1/chat", "", "请求有误：请求体 不能为空"),
    ("POST", "/api/v1/chat", [], "请求有误：请求体 应为 JSON 对象"),
    ("POST", "/api/v1/chat", {"sender_id": "a", "message": "\u200b\u200d"}, "请求有误：message 消息不能为空"),
    ("POST", "/api/v1/chat", {"sender_id": "a", "message": 5}, "请求有误：message 应为文字"),
])
def test_citizen_errors_are_in_chinese_only(app_client, method, path, body, expected):
    kwargs = {"content": body, "headers": {"Content-Type": "application/json"}} if body == "" else {"json": body}
    r = app_client.request(method, path, **({} if body is None else kwargs))
    assert 400 <= r.status_code < 500
    detail = r.json()["detail"]
    assert detail == expected
    assert not _LATIN_WORD.search(re.sub("message|JSON", "", detail)) and "Value error" not in r.text


def test_operator_errors_are_in_chinese_and_english(app_client):
    r = app_client.delete("/api/v1/kb/guides", headers=auth("editor"))
    assert r.status_code == 405 and r.json()["detail"] == "不支持该请求方法 / Method Not Allowed"
    assert "allow" in r.headers
    r = app_client.get("/api/v1/kb/nothing-here", headers=auth("editor"))
    assert r.status_code == 404 and r.json()["detail"] == "找不到该地址 / Not Found"
    r = app_client.get("/api/v1/kb/export?format=pdf", headers=auth("editor"))
    assert r.status_code == 422 and re.search(r"[\u4e00-\u9fff]", str(r.json()["detail"]))


class _RecordingRasa:
    """Stands in for the Rasa server: remembers what the gateway sent."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def send(self, sender_id: str, text: str, channel: str) -> BotTurn:
        self.received.append(text)
        return BotTurn(messages=[{"text": "好的"}], meta={"decision": "dialogue"})

    async def ready(self) -> bool:
        return True

    async def close(self) -> None:
        return None


def test_zero_width_characters_are_stripped_before_nlu(app_client):
    rasa = _RecordingRasa()
    app_client.app.state.gateway.rasa = rasa
    r = app_client.post("/api/v1/chat", json={"sender_id": "zw", "message": "护\u200b照怎么\u00ad办\ufeff\u2060\u200c"})
    assert r.status_code == 200 and rasa.received == ["护照怎么办"]


def test_zero_width_characters_are_stripped_before_retrieval(services):
    assert Normalizer.basic("护\u200b照\u200c\u200d\u2060\ufeff\u00ad") == "护照"
    plain, hidden = services.retriever.search("护照怎么办"), services.retriever.search("护\u200b照怎么\u00ad办")
    assert [m.code for m in hidden.matches] == [m.code for m in plain.matches] and plain.matches
    assert hidden.decision == plain.decision
