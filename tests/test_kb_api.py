"""Editor API over HTTP (TestClient, real app and index; no Rasa needed)."""
import time

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
