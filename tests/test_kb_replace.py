"""`govbot kb import FILE --replace` and `POST /api/v1/kb/import` with replace / dry_run: the file becomes
the whole knowledge base (live guides it leaves out are archived), after a summary that writes nothing."""
import json
import os
import subprocess
import sys

import pytest

from core.db import Database
from govbot.migrations import upgrade
from knowledge_base.sample_data import load_sample_guides
from knowledge_base.schema import AliasDoc
from knowledge_base.transfer import import_file
from knowledge_base.workflow import KnowledgeBase, WorkflowError
from tests.conftest import auth, make_settings

SAMPLE = load_sample_guides()[:5]  # five guides are live before each test
KEPT, EDITED, GONE = SAMPLE[:2], SAMPLE[2], SAMPLE[3:]
NEW = {"code": "DOG-01", "title": "养犬登记", "faqs": [{"question": "养狗要去哪里登记", "answer": "到派出所登记。"}]}


def replacing_file(aliases: list[dict] | None = None) -> bytes:
    guides = [g.model_dump(mode="json") for g in KEPT] + [{**EDITED.model_dump(mode="json"), "fee": "新的收费"}, NEW]
    return json.dumps({"guides": guides, **({"aliases": aliases} if aliases is not None else {})},
                      ensure_ascii=False).encode()


@pytest.fixture
def kb(tmp_path) -> KnowledgeBase:
    db = Database(f"sqlite:///{tmp_path / 'kb.db'}")
    upgrade(db)
    kb = KnowledgeBase(db)
    kb.apply_import(SAMPLE, "loader", "sample", aliases=[AliasDoc(term="狗证", canonical="养犬登记证"),
                                                          AliasDoc(term="驾照", canonical="驾驶证")])
    return kb


def test_dry_run_says_what_would_be_added_changed_and_archived_and_writes_nothing(kb):
    before = (kb.last_change(), kb.live_versions())
    report = import_file(kb, replacing_file(), "city.json", "importer", replace=True, dry_run=True)
    s = report.summary
    assert report.ok and not report.written
    assert (s.added, s.changed, s.unchanged) == (["DOG-01"], [EDITED.code], [g.code for g in KEPT])
    assert s.archived == sorted(g.code for g in GONE)
    assert (kb.last_change(), kb.live_versions()) == before
    assert any("归档 archived" in line and GONE[0].code in line for line in s.lines())


def test_replace_archives_every_live_guide_left_out_in_one_go(kb):
    versions = kb.live_versions()
    report = import_file(kb, replacing_file(), "city.json", "importer", replace=True)
    assert report.written
    live = kb.live_versions()
    assert set(live) == {g.code for g in KEPT} | {EDITED.code, "DOG-01"}
    assert all(live[g.code] == versions[g.code] for g in KEPT)  # unchanged: no new version
    assert live[EDITED.code] == versions[EDITED.code] + 1 and kb.live_guide(EDITED.code).fee == "新的收费"
    for g in GONE:
        guide = kb.get(g.code)
        assert (guide.status, guide.live_version) == ("archived", None)
        assert kb.audit(g.code)[0].action == "archive" and "city.json" in kb.audit(g.code)[0].detail
    again = import_file(kb, replacing_file(), "city.json", "importer", replace=True, dry_run=True).summary
    assert (again.added, again.changed, again.archived) == ([], [], [])
    # a file without an aliases section leaves the dictionary alone, even when replacing
    assert {a.term for a in kb.aliases()} == {"狗证", "驾照"}


def test_replace_with_an_aliases_section_makes_it_the_whole_dictionary(kb):
    file = replacing_file([{"term": "狗牌", "canonical": "养犬登记证"}, {"term": "驾照", "canonical": "机动车驾驶证"}])
    s = import_file(kb, file, "city.json", "importer", replace=True, dry_run=True).summary
    assert (s.aliases_added, s.aliases_changed, s.aliases_removed) == (["狗牌"], ["驾照"], ["狗证"])
    import_file(kb, file, "city.json", "importer", replace=True)
    assert kb.alias_dictionary() == ({"狗牌": "养犬登记证", "驾照": "机动车驾驶证"}, {})
    assert kb.audit("ALIASES")[0].action == "aliases_import"


def test_a_replace_is_one_transaction(kb, monkeypatch):
    """A left-out guide goes into review between the check and the write: nothing at all is written."""
    before = kb.live_versions()
    kb.save_draft(GONE[0], "alice", revision=kb.get(GONE[0].code).revision)
    kb.submit(GONE[0].code, "alice")
    monkeypatch.setattr(kb, "in_review", lambda: set())  # the check ran just before the submit
    with pytest.raises(WorkflowError) as err:
        import_file(kb, replacing_file([{"term": "狗牌", "canonical": "养犬登记证"}]), "city.json", "importer",
                    replace=True)
    assert err.value.status == 409
    assert kb.live_versions() == before and kb.live_guide(EDITED.code) == EDITED
    assert {a.term for a in kb.aliases()} == {"狗证", "驾照"}
    with pytest.raises(WorkflowError):
        kb.get("DOG-01")


def test_a_guide_in_review_left_out_is_reported_not_archived(kb):
    kb.save_draft(GONE[0], "alice", revision=kb.get(GONE[0].code).revision)
    kb.submit(GONE[0].code, "alice")
    report = import_file(kb, replacing_file(), "city.json", "importer", replace=True)
    assert not report.written and "正在审核" in report.errors[0].reason and GONE[0].code in report.errors[0].reason
    assert kb.get(GONE[0].code).status == "in_review" and kb.get(GONE[1].code).live_version is not None


def test_replace_refuses_drafts_skipping_rows_and_an_empty_file(kb):
    for kwargs in ({"publish": False}, {"skip_bad": True}):
        with pytest.raises(WorkflowError) as err:
            import_file(kb, replacing_file(), "city.json", "importer", replace=True, **kwargs)
        assert err.value.status == 422
    report = import_file(kb, b'{"guides": []}', "empty.json", "importer", replace=True)
    assert not report.written and "归档全部事项" in report.errors[0].reason
    assert len(kb.live_versions()) == 5


def run_cli(tmp_path, *args: str) -> subprocess.CompletedProcess:
    s = make_settings(tmp_path)
    env = {**os.environ, "GOVBOT_VAR_DIR": str(s.var_dir), "DATABASE_URL": s.database_url, "GOVBOT_SAMPLE_KB": "off"}
    return subprocess.run([sys.executable, "-m", "govbot.cli", "kb", "import", *args], capture_output=True,
                          text=True, env=env, timeout=300, stdin=subprocess.DEVNULL)


def test_cli_shows_the_summary_first_and_replaces_only_when_told(tmp_path):
    first, city = tmp_path / "first.json", tmp_path / "city.json"
    first.write_text(json.dumps([g.model_dump(mode="json") for g in SAMPLE], ensure_ascii=False), encoding="utf-8")
    city.write_bytes(replacing_file())
    out = run_cli(tmp_path, str(first))
    assert out.returncode == 0 and "imported 5 guide(s)" in out.stdout, out.stderr
    out = run_cli(tmp_path, str(city), "--replace", "--dry-run")
    assert out.returncode == 0 and "dry run: nothing written" in out.stdout
    assert f"归档 archived       2: {GONE[0].code}, {GONE[1].code}" in out.stdout
    out = run_cli(tmp_path, str(city), "--replace")  # no terminal to ask at: refused, summary shown
    assert out.returncode == 1 and "--yes" in out.stderr and "新增 added          1: DOG-01" in out.stdout
    kb = KnowledgeBase(Database(make_settings(tmp_path).database_url))
    assert len(kb.live_versions()) == 5
    out = run_cli(tmp_path, str(city), "--replace", "--yes")
    assert out.returncode == 0 and "imported 4 guide(s)" in out.stdout, out.stderr
    assert set(kb.live_versions()) == {g.code for g in KEPT} | {EDITED.code, "DOG-01"}
    assert run_cli(tmp_path, str(city), "--replace", "--draft", "--yes").returncode == 1


def test_api_dry_run_for_editors_replace_for_reviewers(app_client):
    file = json.dumps({"guides": [g.model_dump(mode="json") for g in SAMPLE[:2]]}, ensure_ascii=False).encode()
    upload = {"file": ("city.json", file, "application/json")}
    r = app_client.post("/api/v1/kb/import", files=upload, data={"replace": "true", "dry_run": "true"},
                        headers=auth("editor"))
    assert r.status_code == 200 and r.json()["dry_run"] and r.json()["imported"] == 0
    assert len(r.json()["summary"]["archived"]) == 78 and r.json()["summary"]["unchanged"] == [g.code for g in SAMPLE[:2]]
    r = app_client.post("/api/v1/kb/import", files=upload, data={"replace": "true"}, headers=auth("editor"))
    assert r.status_code == 403
    r = app_client.post("/api/v1/kb/import", files=upload, data={"replace": "true", "publish": "false"},
                        headers=auth("reviewer"))
    assert r.status_code == 422 and "草稿" in r.json()["detail"]
    r = app_client.post("/api/v1/kb/import", files=upload, data={"replace": "true"}, headers=auth("reviewer"))
    assert r.status_code == 200 and len(r.json()["summary"]["archived"]) == 78
    guides = app_client.get("/api/v1/kb/guides", params={"status": "published"}, headers=auth("editor")).json()
    assert [g["code"] for g in guides] == sorted(g.code for g in SAMPLE[:2])
