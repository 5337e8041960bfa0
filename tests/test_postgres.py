"""The same storage code on a real PostgreSQL server (127.0.0.1:5432, database `test`)."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import need_service

pytestmark = pytest.mark.postgres
BASE_URL = os.environ.get("GOVBOT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _reachable() -> bool:
    try:
        with create_engine(BASE_URL, connect_args={"connect_timeout": 3}).connect() as c:
            c.execute(text("select 1"))
        return True
    except Exception:
        return False


@pytest.fixture
def pg_url():
    need_service(_reachable(), f"PostgreSQL at {BASE_URL}")
    schema = f"govbot_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(BASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{BASE_URL}?options=-csearch_path%3D{schema}"
    with admin.connect() as c:
        c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_workflow_and_import_on_postgres(pg_url):
    from core.db import Database
    from govbot.migrations import upgrade
    from knowledge_base.sample_data import load_sample_guides
    from knowledge_base.transfer import export, import_file
    from knowledge_base.workflow import KnowledgeBase
    from tests.test_workflow import run_workflow

    db = Database(pg_url)
    upgrade(db)
    kb = KnowledgeBase(db)
    run_workflow(kb)
    kb.publish_directly(load_sample_guides(), "loader", "sample")
    assert len(kb.live()) == 80
    bad = "code,title,question,similar_questions,answer\nZ-01,甲,问,,\n"
    report = import_file(kb, bad.encode(), "bad.csv", "importer")
    assert not report.ok and "Z-01" not in kb.live_versions()  # nothing written
    import json
    assert len(json.loads(export(kb, "json"))["guides"]) == 81  # 80 + the archived test guide


def test_concurrent_approvals_and_saves_on_postgres(pg_url):
    """Two approvals of one draft: one publish, one 409; two saves of one revision: one wins, one 409."""
    from core.db import Database
    from govbot.migrations import upgrade
    from knowledge_base.workflow import KnowledgeBase
    from tests.test_workflow import check_two_approvals_at_once, check_two_saves_of_one_revision

    db = Database(pg_url)
    upgrade(db)
    kb = KnowledgeBase(db)
    check_two_approvals_at_once(kb)
    check_two_saves_of_one_revision(kb)
