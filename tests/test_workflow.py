import datetime as dt

import pytest

from core.db import Database
from govbot.migrations import upgrade
from knowledge_base.schema import GuideData
from knowledge_base.workflow import KnowledgeBase, WorkflowError


@pytest.fixture
def kb(tmp_path) -> KnowledgeBase:
    db = Database(f"sqlite:///{tmp_path / 'kb.db'}")
    upgrade(db)
    return KnowledgeBase(db)


def guide(**kw) -> GuideData:
    base = {"code": "TEST-01", "title": "测试事项", "fee": "免费",
            "faqs": [{"question": "怎么办理", "similar_questions": "在哪办|要多久", "answer": "到窗口办理。"}]}
    return GuideData.model_validate({**base, **kw})


def run_workflow(kb: KnowledgeBase) -> None:
    """draft → review → reject → edit → review → publish → edit → publish → rollback → archive."""
    kb.save_draft(guide(), "alice")
    with pytest.raises(WorkflowError):
        kb.approve("TEST-01", "bob")  # not submitted yet
    kb.submit("TEST-01", "alice")
    with pytest.raises(WorkflowError):
        kb.save_draft(guide(fee="10元"), "alice")  # locked while in review
    with pytest.raises(WorkflowError):
        kb.reject("TEST-01", "bob", " ")  # a rejection needs a reason
    kb.reject("TEST-01", "bob", "收费标准请核实")
    assert kb.get("TEST-01").status == "draft" and kb.get("TEST-01").review_comment == "收费标准请核实"
    assert kb.live_guide("TEST-01") is None  # nothing published yet
    kb.save_draft(guide(fee="20元"), "alice")
    kb.submit("TEST-01", "alice")
    kb.approve("TEST-01", "bob")
    assert kb.live_guide("TEST-01").fee == "20元"
    kb.save_draft(guide(fee="30元"), "alice")
    assert kb.live_guide("TEST-01").fee == "20元"  # the draft is not live until published
    kb.submit("TEST-01", "alice")
    kb.approve("TEST-01", "bob")
    assert [v.version for v in kb.history("TEST-01")] == [1, 2]
    diff = kb.diff("TEST-01", 1, 2)
    assert '- "fee": "20元",' in diff and '+ "fee": "30元",' in diff
    kb.rollback("TEST-01", 1, "bob")
    assert kb.live_guide("TEST-01").fee == "20元"
    assert [v.version for v in kb.history("TEST-01")] == [1, 2, 3]  # versions are immutable
    assert kb.version("TEST-01", 2).data["fee"] == "30元"
    kb.archive("TEST-01", "bob")
    assert kb.live_guide("TEST-01") is None and "TEST-01" not in kb.live_versions()
    actions = [e.action for e in reversed(kb.audit("TEST-01"))]
    assert actions == ["create", "submit", "reject", "edit", "submit", "publish", "edit", "submit", "publish",
                       "publish", "archive"]


def test_editor_workflow_versions_rollback_and_audit(kb):
    run_workflow(kb)


def test_create_only_refuses_duplicate_codes(kb):
    kb.save_draft(guide(), "alice", create_only=True)
    with pytest.raises(WorkflowError, match="已存在"):
        kb.save_draft(guide(), "alice", create_only=True)


def test_validity_window():
    g = guide(valid_from="2026-01-01", valid_to="2026-06-30")
    assert g.is_valid_on(dt.date(2026, 3, 1))
    assert not g.is_valid_on(dt.date(2026, 7, 1))


def test_bad_code_is_rejected_with_a_reason():
    with pytest.raises(ValueError, match="GA-CR-01"):
        guide(code="passport office")
