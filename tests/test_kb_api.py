"""Editor API over HTTP (TestClient, real app and index; no Rasa needed)."""
import dataclasses
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from core.auth import add_user
from govbot.app import create_app
from tests.conftest import auth

NEW_GUIDE = {"code": "DOG-01", "title": "养犬登记", "department": "公安局", "fee": "首次登记免费",
             "faqs": [{"question": "养狗要去哪里登记", "similar_questions": ["狗证怎么办", "给狗办证"],
                       "answer": "带犬只免疫证明到辖区派出所登记。"}]}


def wait_for_decision(client, question: str, code: str, seconds: float = 2.0) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        r = client.get("/api/v1/kb/search", params={"q": question}, headers=auth("editor")).json()
        if r["matches"] and r["matches"][0]["code"] == code:
            return time.perf_counter() - t0
        time.sleep(0.05)
    raise AssertionError(f"{code} not the top match for {question!r} within {seconds}s")


def test_roles_are_enforced(app_client):
    assert app_client.get("/api/v1/kb/guides").status_code == 401
    assert app_client.get("/api/v1/kb/guides", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert app_client.get("/api/v1/kb/guides", headers=auth("agent")).status_code == 403
    assert app_client.post("/api/v1/kb/guides", json=NEW_GUIDE, headers=auth("agent")).status_code == 403
    assert app_client.post("/api/v1/kb/guides", json=NEW_GUIDE, headers=auth("editor")).status_code == 201
    assert app_client.post("/api/v1/kb/guides/DOG-01/submit", headers=auth("editor")).status_code == 200
    r = app_client.post("/api/v1/kb/guides/DOG-01/approve", headers=auth("editor"))
    assert r.status_code == 403 and "reviewer" in r.json()["detail"]


def test_validation_errors_name_the_field_and_write_nothing(app_client):
    bad = {**NEW_GUIDE, "faqs": [{"question": "怎么办", "answer": ""}], "colour": "red"}
    r = app_client.post("/api/v1/kb/guides", json=bad, headers=auth("editor"))
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["detail"]["errors"]}
    assert {"faqs.0.answer", "colour"} <= fields
    assert app_client.get("/api/v1/kb/guides/DOG-01", headers=auth("editor")).status_code == 404


def test_publish_is_answerable_within_two_seconds_and_archive_withdraws(app_client):
    app_client.post("/api/v1/kb/guides", json=NEW_GUIDE, headers=auth("editor"))
    app_client.post("/api/v1/kb/guides/DOG-01/submit", headers=auth("editor"))
    assert app_client.post("/api/v1/kb/guides/DOG-01/approve", headers=auth("reviewer")).status_code == 200
    elapsed = wait_for_decision(app_client, "狗证在哪里办", "DOG-01")
    assert elapsed < 2.0
    versions = app_client.get("/api/v1/kb/guides/DOG-01/versions", headers=auth("editor")).json()
    assert [v["version"] for v in versions] == [1]
    app_client.post("/api/v1/kb/guides/DOG-01/archive", headers=auth("reviewer"))
    time.sleep(1.5)
    r = app_client.get("/api/v1/kb/search", params={"q": "狗证在哪里办"}, headers=auth("editor")).json()
    assert all(m["code"] != "DOG-01" for m in r["matches"])


def test_faq_sheet_upload_from_another_city(app_client):
    sheet = ("code,title,question,similar_questions,answer\n"
             ",电动自行车上牌,电动车怎么上牌,电瓶车上牌照|电动车挂牌去哪,带购车发票和合格证到车管所登记上牌。\n")
    r = app_client.post("/api/v1/kb/import", files={"file": ("faq.csv", sheet.encode("gbk"), "text/csv")},
                        headers=auth("editor"))
    assert r.status_code == 403  # editors may only import drafts
    r = app_client.post("/api/v1/kb/import", files={"file": ("faq.csv", sheet.encode("gbk"), "text/csv")},
                        headers=auth("reviewer"))
    assert r.status_code == 200 and r.json()["imported"] == 1
    code = [g for g in app_client.get("/api/v1/kb/guides", params={"q": "电动自行车"},
                                      headers=auth("editor")).json()][0]["code"]
    wait_for_decision(app_client, "电瓶车上牌照去哪", code)


def test_bad_import_over_http_reports_rows(app_client):
    sheet = "code,title,question,similar_questions,answer\nX-01,甲,问,,\n"
    r = app_client.post("/api/v1/kb/import", files={"file": ("faq.csv", sheet.encode(), "text/csv")},
                        headers=auth("admin"))
    assert r.status_code == 422
    assert r.json()["detail"]["errors"] == [{"line": 2, "field": "answer", "reason": "答案不能为空"}]


def test_export_lists_the_whole_catalogue(app_client):
    r = app_client.get("/api/v1/kb/export", params={"format": "json"}, headers=auth("editor"))
    assert len(r.json()["guides"]) == 80


def test_chat_input_errors_are_clear_chinese(app_client):
    r = app_client.post("/api/v1/chat", json={"sender_id": "x", "message": "   ", "channel": "web"})
    assert r.status_code == 422 and "message" in r.json()["detail"]
    r = app_client.post("/api/v1/chat", json={"sender_id": "x", "message": "你好", "channel": "fax"})
    assert r.status_code == 422 and "取值不在允许范围内" in r.json()["detail"]


# ---- issue 9 over HTTP ------------------------------------------------------------------------------------
def created(client, role: str = "editor") -> str:
    r = client.post("/api/v1/kb/guides", json=NEW_GUIDE, headers=auth(role))
    assert r.status_code == 201 and r.headers["ETag"] == f'"{r.json()["revision"]}"'
    return r.headers["ETag"]


def test_negative_limit_or_offset_is_422(app_client):
    for params in ({"limit": -1}, {"limit": 0}, {"offset": -1}):
        assert app_client.get("/api/v1/kb/guides", params=params, headers=auth("editor")).status_code == 422
    assert len(app_client.get("/api/v1/kb/guides", params={"limit": 5}, headers=auth("editor")).json()) == 5


def test_saves_carry_the_revision_they_edit(app_client):
    etag = created(app_client)
    url, edited = "/api/v1/kb/guides/DOG-01", {**NEW_GUIDE, "fee": "10元"}
    r = app_client.put(url, json=edited, headers=auth("editor"))
    assert r.status_code == 428 and "If-Match" in r.json()["detail"]
    r = app_client.put(url, json=edited, headers={**auth("editor"), "If-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] != etag and r.json()["draft"]["fee"] == "10元"
    stale = app_client.put(url, json={**NEW_GUIDE, "phone": "110"}, headers={**auth("reviewer"), "If-Match": etag})
    assert stale.status_code == 409
    detail = stale.json()["detail"]
    assert "test-editor" in detail["message"] and detail["updated_by"] == "test-editor"
    assert detail["current_revision"] == r.json()["revision"] and detail["differing_fields"] == ["fee", "phone"]
    assert app_client.get(url, headers=auth("editor")).json()["draft"]["fee"] == "10元"  # nothing lost
    r = app_client.put(url, json={**edited, "phone": "110", "revision": r.json()["revision"]}, headers=auth("reviewer"))
    assert r.status_code == 200 and r.json()["draft"]["phone"] == "110"
    r = app_client.put(url, json=edited, headers={**auth("editor"), "If-Match": "W/\"x\""})
    assert r.status_code == 422


def test_a_reviewer_cannot_approve_their_own_submission_an_admin_can_with_audit(app_client):
    created(app_client, "reviewer")
    app_client.post("/api/v1/kb/guides/DOG-01/submit", headers=auth("reviewer"))
    r = app_client.post("/api/v1/kb/guides/DOG-01/approve", headers=auth("reviewer"))
    assert r.status_code == 403 and "四眼" in r.json()["detail"]
    r = app_client.post("/api/v1/kb/guides/DOG-01/approve", headers=auth("admin"))  # someone else: fine
    assert r.status_code == 200 and r.json()["live_version"] == 1
    app_client.put("/api/v1/kb/guides/DOG-01", json={**NEW_GUIDE, "fee": "20元"},
                   headers={**auth("admin"), "If-Match": r.headers["ETag"]})
    app_client.post("/api/v1/kb/guides/DOG-01/submit", headers=auth("editor"))
    assert app_client.post("/api/v1/kb/guides/DOG-01/approve", headers=auth("editor")).status_code == 403  # role
    r = app_client.post("/api/v1/kb/guides/DOG-01/approve", headers=auth("admin"))  # admin's own edit
    assert r.status_code == 200 and r.json()["live_version"] == 2
    audit = app_client.get("/api/v1/kb/audit", params={"code": "DOG-01"}, headers=auth("editor")).json()
    assert [(e["actor"], e["action"]) for e in audit[:2]] == [("test-admin", "publish"), ("test-admin", "override")]


def test_two_reviewers_approving_at_once_one_2xx_one_409(app_client, services):
    from tests.test_workflow import race

    add_user(services.db, "second-reviewer", "reviewer", token="reviewer2-token")
    created(app_client)
    app_client.post("/api/v1/kb/guides/DOG-01/submit", headers=auth("editor"))
    statuses = race(services.kb, "max(kb_guide_versions.version)",
                    *[lambda role=role: app_client.post("/api/v1/kb/guides/DOG-01/approve", headers=auth(role))
                      .status_code for role in ("reviewer", "reviewer2")])
    assert sorted(statuses) == [200, 409]
    versions = app_client.get("/api/v1/kb/guides/DOG-01/versions", headers=auth("editor")).json()
    assert [v["version"] for v in versions] == [1]


def test_archived_guide_is_not_answered_again_when_an_editor_saves_a_draft(app_client):
    created(app_client)
    app_client.post("/api/v1/kb/guides/DOG-01/submit", headers=auth("editor"))
    app_client.post("/api/v1/kb/guides/DOG-01/approve", headers=auth("reviewer"))
    wait_for_decision(app_client, "狗证在哪里办", "DOG-01")
    r = app_client.post("/api/v1/kb/guides/DOG-01/archive", headers=auth("reviewer"))
    r = app_client.put("/api/v1/kb/guides/DOG-01", json={**NEW_GUIDE, "fee": "50元"},
                       headers={**auth("editor"), "If-Match": r.headers["ETag"]})
    assert r.status_code == 200 and r.json()["status"] == "draft" and r.json()["live_version"] is None
    assert app_client.post("/api/v1/kb/guides/DOG-01/rollback", json={"version": 1},
                           headers=auth("reviewer")).status_code == 409
    time.sleep(1.5)  # the live index polls every 0.5 s
    r = app_client.get("/api/v1/kb/search", params={"q": "狗证在哪里办"}, headers=auth("editor")).json()
    assert all(m["code"] != "DOG-01" for m in r["matches"])


@pytest.fixture
def small_upload_client(services):
    services.settings = dataclasses.replace(services.settings, import_max_bytes=2000)
    add_user(services.db, "test-admin", "admin", token="admin-token")
    with TestClient(create_app(services.settings, services)) as client:
        yield client


def faq_sheet(rows: int) -> bytes:
    return ("code,title,question,similar_questions,answer\n" +
            "".join(f"BIG-{i},大表{i},问题{i},,答案{i}\n" for i in range(rows))).encode()


def test_uploads_over_the_limit_get_413_before_anything_is_parsed(small_upload_client):
    big = faq_sheet(200)
    assert len(big) > 2000
    r = small_upload_client.post("/api/v1/kb/import", files={"file": ("faq.csv", big, "text/csv")},
                                 headers=auth("admin"))
    assert r.status_code == 413 and "上限" in r.json()["detail"] and "GOVBOT_IMPORT_MAX_BYTES" in r.json()["detail"]
    boundary = "b0undary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"faq.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode() + big * 400 + f"\r\n--{boundary}--\r\n".encode()
    chunked = (body[i:i + 8192] for i in range(0, len(body), 8192))  # no Content-Length
    r = small_upload_client.post("/api/v1/kb/import", content=chunked, headers={
        **auth("admin"), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status_code == 413
    r = small_upload_client.post("/api/v1/kb/import", files={"file": ("faq.csv", faq_sheet(5), "text/csv")},
                                 data={"publish": "false"}, headers=auth("admin"))
    assert r.status_code == 200 and r.json()["imported"] == 5
    assert small_upload_client.get("/api/v1/kb/guides/BIG-0", headers=auth("admin")).json()["status"] == "draft"


def test_import_parsing_runs_off_the_event_loop(app_client, monkeypatch):
    from knowledge_base import api

    started = threading.Event()

    def slow_import(*args, **kwargs):
        started.set()
        time.sleep(2.0)
        return real_import(*args, **kwargs)

    real_import = api.import_file
    monkeypatch.setattr(api, "import_file", slow_import)
    with ThreadPoolExecutor(1) as pool:
        upload = pool.submit(app_client.post, "/api/v1/kb/import", headers=auth("reviewer"),
                             files={"file": ("faq.csv", faq_sheet(1), "text/csv")})
        assert started.wait(10)
        t0 = time.perf_counter()
        assert app_client.get("/api/v1/kb/guides/BIG-0", headers=auth("editor")).status_code == 404
        assert time.perf_counter() - t0 < 1.0 and not upload.done()
        assert upload.result().status_code == 200
