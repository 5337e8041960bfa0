"""The alias / typo dictionary as editor-managed data: seeded from the sample, listed/added/removed over the
API (audited), live within seconds, carried by exports and imports, and kept on upgrade (migration 0008)."""
import io
import json
import time
from pathlib import Path

import yaml
from openpyxl import load_workbook

from core.db import Database
from govbot.migrations import upgrade
from knowledge_base.live_index import to_indexed_item
from knowledge_base.sample_data import SAMPLE_LOADER, load_sample_guides, load_synonyms
from knowledge_base.schema import AliasDoc
from knowledge_base.transfer import export, import_file, parse
from knowledge_base.workflow import KnowledgeBase
from retrieval.normalize import Normalizer
from tests.conftest import auth

SLANG, CANONICAL, CODE = "出生纸", "出生医学证明", "WJ-02"  # nobody wrote 出生纸 into the sample guides
QUESTION = "娃的出生纸在哪办"


def test_the_sample_brings_its_dictionary_and_retrieval_uses_the_stored_one(services):
    aliases, typos = load_synonyms()
    assert services.kb.alias_dictionary() == (aliases, typos)
    assert services.retriever.search("良民证怎么开").matches[0].code == "GA-HZ-08"
    assert services.retriever.search(QUESTION).decision != "answer"
    services.kb.add_alias(AliasDoc(term=SLANG, canonical=CANONICAL), "ed")
    assert services.live_index.sync()[1] == 0
    r = services.retriever.search(QUESTION)
    assert (r.decision, r.matches[0].code) == ("answer", CODE)
    services.kb.remove_alias(SLANG, "ed")
    services.live_index.sync()
    assert services.retriever.search(QUESTION).decision != "answer"


def test_a_new_term_re_indexes_exactly_the_items_whose_passages_contain_it(services):
    term = "新生儿"
    holders = {g.code for g in services.kb.live()
               if any(term in Normalizer.basic(p) for p in (g.title, *to_indexed_item(g).passages))}
    assert holders  # the sample has it
    services.kb.add_alias(AliasDoc(term=term, canonical="出生婴儿"), "ed")
    assert services.live_index.sync() == (len(holders), 0)
    assert services.live_index.sync() == (0, 0)


def test_api_lists_adds_removes_with_audit_and_chinese_errors(app_client):
    listed = app_client.get("/api/v1/kb/aliases", headers=auth("editor")).json()
    assert len(listed) == sum(map(len, load_synonyms())) and {"term", "canonical", "kind", "created_by"} <= listed[0].keys()
    assert app_client.get("/api/v1/kb/aliases", headers=auth("agent")).status_code == 403
    assert app_client.get("/api/v1/kb/aliases").status_code == 401
    r = app_client.post("/api/v1/kb/aliases", json={"term": SLANG, "canonical": CANONICAL, "kind": "alias"},
                        headers=auth("editor"))
    assert r.status_code == 201 and r.json()["created_by"] == "test-editor"
    r = app_client.post("/api/v1/kb/aliases", json={"term": SLANG, "canonical": "别的"}, headers=auth("editor"))
    assert r.status_code == 409 and "已在词典中" in r.json()["detail"]
    r = app_client.post("/api/v1/kb/aliases", json={"term": "产权证", "canonical": "不动产权证书"}, headers=auth("editor"))
    assert r.status_code == 422 and "一部分" in r.json()["detail"]["errors"][0]["reason"]
    r = app_client.post("/api/v1/kb/aliases", json={"term": "甲", "canonical": "乙", "kind": "slang"},
                        headers=auth("editor"))
    assert r.status_code == 422 and r.json()["detail"]["errors"][0]["field"] == "kind"
    assert app_client.delete(f"/api/v1/kb/aliases/{SLANG}", headers=auth("editor")).status_code == 204
    r = app_client.delete(f"/api/v1/kb/aliases/{SLANG}", headers=auth("editor"))
    assert r.status_code == 404 and "没有" in r.json()["detail"]
    audit = app_client.get("/api/v1/kb/audit", params={"code": "ALIASES"}, headers=auth("editor")).json()
    assert [(e["actor"], e["action"]) for e in audit[:2]] == [("test-editor", "alias_remove"), ("test-editor", "alias_add")]
    assert SLANG in audit[0]["detail"] and CANONICAL in audit[0]["detail"]


def test_an_added_alias_answers_within_two_seconds_on_a_running_app(app_client):
    def top(question: str) -> tuple[str, str]:
        r = app_client.get("/api/v1/kb/search", params={"q": question}, headers=auth("editor")).json()
        return r["decision"], r["matches"][0]["code"]

    assert top(QUESTION)[0] != "answer"
    app_client.post("/api/v1/kb/aliases", json={"term": SLANG, "canonical": CANONICAL}, headers=auth("editor"))
    t0 = time.perf_counter()
    while top(QUESTION) != ("answer", CODE):
        assert time.perf_counter() - t0 < 2.0, "the alias was not live within 2 s"
        time.sleep(0.05)


def fresh_kb(tmp_path: Path, name: str) -> KnowledgeBase:
    db = Database(f"sqlite:///{tmp_path / name}")
    upgrade(db)
    return KnowledgeBase(db)


def test_exports_carry_the_dictionary_and_imports_restore_it(tmp_path):
    source = fresh_kb(tmp_path, "a.db")
    entries = [AliasDoc(term="驾照", canonical="驾驶证"), AliasDoc(term="身分证", canonical="身份证", kind="typo"),
               AliasDoc(term="=HYPERLINK(1)", canonical="公式")]
    source.apply_import(load_sample_guides()[:2], "loader", "sample", aliases=entries)
    assert json.loads(export(source, "json"))["aliases"][0] == {"term": "=HYPERLINK(1)", "canonical": "公式", "kind": "alias"}
    assert len(yaml.safe_load(export(source, "yaml"))["aliases"]) == 3
    sheet = load_workbook(io.BytesIO(export(source, "xlsx")))["aliases"]
    assert [c.value for c in sheet[1]] == ["term", "canonical", "kind"] and sheet["A2"].value == "'=HYPERLINK(1)"
    for fmt in ("json", "yaml", "xlsx"):
        target = fresh_kb(tmp_path, f"{fmt}.db")
        report = import_file(target, export(source, fmt), f"kb.{fmt}", "importer")
        assert report.ok and target.alias_dictionary() == source.alias_dictionary(), fmt
        assert target.audit("ALIASES")[0].detail.startswith("+3 ~0 -0"), fmt
    assert parse(export(source, "csv"), "kb.csv").aliases is None  # one table: the guides


def test_bad_dictionary_rows_are_reported_with_their_line():
    doc = {"guides": [], "aliases": [{"term": "驾照", "canonical": "驾驶证"}, {"term": "驾照", "canonical": "驾驶执照"},
                                     {"term": "", "canonical": "x"}, {"term": "驾驶本", "kind": "俗称"}]}
    report = parse(json.dumps(doc, ensure_ascii=False).encode(), "kb.json")
    assert sorted((e.line, e.field) for e in report.errors) == [(2, "aliases.term"), (3, "aliases.term"),
                                                                (4, "aliases.canonical"), (4, "aliases.kind")]
    assert any("重复" in e.reason for e in report.errors)


def test_the_sample_dictionary_survives_an_export_and_a_replacing_import(services, tmp_path):
    """It has chains (typo 低宝 → 低保, alias 低保 → 最低生活保障): entries stand together, one pass rewrites."""
    target = fresh_kb(tmp_path, "city.db")
    report = import_file(target, export(services.kb, "json"), "kb.json", "importer", replace=True)
    assert report.written, report.errors[:3]
    assert target.alias_dictionary() == services.kb.alias_dictionary() == load_synonyms()
    assert services.retriever.normalizer("低宝怎么申请") == "低保怎么申请"


def test_migration_0008_keeps_the_sample_dictionary_of_an_upgraded_instance(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    import govbot.migrations

    def upgraded(name: str, loader: str) -> KnowledgeBase:
        db = Database(f"sqlite:///{tmp_path / name}")
        cfg = Config()
        cfg.set_main_option("script_location", str(Path(govbot.migrations.__file__).parent))
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0007_handoff")
            conn.execute(text("INSERT INTO kb_guides (code, title, status, draft, live_version, review_comment, "
                              "updated_by, updated_at, revision, edited_by, submitted_by) VALUES ('OLD-01', '旧', "
                              "'published', '{}', 1, '', :a, '2025-01-01', 1, :a, '')"), {"a": loader})
            conn.execute(text("INSERT INTO kb_guide_versions (code, version, data, published_by, published_at, note) "
                              "VALUES ('OLD-01', 1, '{}', :a, '2025-01-01', '')"), {"a": loader})
        upgrade(db)
        return KnowledgeBase(db)

    assert upgraded("sample.db", SAMPLE_LOADER).alias_dictionary() == load_synonyms()
    assert upgraded("city.db", "cli-import").aliases() == []
