import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import event, update

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


# ---- issue 9: archive, rollback, four eyes, concurrency, optimistic locking ------------------------------
def published(kb: KnowledgeBase, fee: str = "免费") -> None:
    kb.save_draft(guide(fee=fee), "alice")
    kb.submit("TEST-01", "alice")
    kb.approve("TEST-01", "bob")


def test_archived_content_needs_a_reviewers_publish_to_come_back(kb):
    published(kb)
    kb.archive("TEST-01", "bob")
    with pytest.raises(WorkflowError, match="没有线上版本"):
        kb.rollback("TEST-01", 1, "bob")  # rollback never un-archives
    kb.save_draft(guide(fee="5元"), "alice")  # an editor works on the archived guide
    assert kb.get("TEST-01").status == "draft"
    assert kb.live_guide("TEST-01") is None and "TEST-01" not in kb.live_versions()
    assert "TEST-01" not in {g.code for g in kb.live()}
    with pytest.raises(WorkflowError, match="没有线上版本"):
        kb.rollback("TEST-01", 1, "bob")
    kb.submit("TEST-01", "alice")
    assert kb.live_guide("TEST-01") is None
    kb.approve("TEST-01", "carol")
    assert kb.live_guide("TEST-01").fee == "5元" and kb.live_versions() == {"TEST-01": 2}


def test_rollback_refuses_a_draft_in_review_and_keeps_unpublished_edits(kb):
    published(kb, fee="10元")
    kb.save_draft(guide(fee="20元"), "alice")
    kb.submit("TEST-01", "alice")
    kb.approve("TEST-01", "bob")
    kb.save_draft(guide(fee="30元"), "alice")
    kb.submit("TEST-01", "alice")
    with pytest.raises(WorkflowError, match="待审核"):
        kb.rollback("TEST-01", 1, "bob")
    assert kb.get("TEST-01").draft["fee"] == "30元" and kb.get("TEST-01").status == "in_review"
    kb.reject("TEST-01", "bob", "再核实")
    kb.rollback("TEST-01", 1, "bob")
    assert kb.live_guide("TEST-01").fee == "10元"
    g = kb.get("TEST-01")
    assert g.status == "draft" and g.draft["fee"] == "30元"  # the editor's work is still there


def test_four_eyes_last_editor_and_submitter_cannot_approve_admin_override_is_audited(kb):
    kb.save_draft(guide(), "alice")
    kb.submit("TEST-01", "bob")
    for author in ("alice", "bob"):
        with pytest.raises(WorkflowError, match="四眼") as err:
            kb.approve("TEST-01", author)
        assert err.value.status == 403
    assert kb.get("TEST-01").status == "in_review" and kb.history("TEST-01") == []
    kb.approve("TEST-01", "alice", may_override=True)  # an admin approving their own draft
    assert kb.live_guide("TEST-01") is not None
    override = [e for e in kb.audit("TEST-01") if e.action == "override"]
    assert len(override) == 1 and override[0].actor == "alice" and "edited by alice" in override[0].detail


def test_a_stale_save_gets_409_with_what_changed(kb):
    loaded = kb.save_draft(guide(), "alice").revision
    kb.save_draft(guide(fee="10元"), "bob", revision=loaded)
    with pytest.raises(WorkflowError, match="bob") as err:
        kb.save_draft(guide(phone="12345"), "alice", revision=loaded)  # alice still has the old copy
    assert err.value.status == 409
    assert err.value.facts["current_revision"] == loaded + 1 and err.value.facts["your_revision"] == loaded
    assert err.value.facts["differing_fields"] == ["fee", "phone"]
    assert kb.get("TEST-01").draft["fee"] == "10元"  # bob's update is not lost
    saved = kb.save_draft(guide(fee="10元", phone="12345"), "alice", revision=loaded + 1)
    assert saved.revision == loaded + 2


def race(kb: KnowledgeBase, statement_fragment: str, *calls) -> list[object]:
    """Run the calls in threads, each held at `statement_fragment` until all have read the guide, so their
    transactions overlap; returns each call's result or exception."""
    barrier = threading.Barrier(len(calls), timeout=3)

    def hold(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement_fragment in statement.lower():
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass  # an implementation that serialises earlier is fine too

    event.listen(kb.db.engine, "before_cursor_execute", hold)
    try:
        with ThreadPoolExecutor(len(calls)) as pool:
            futures = [pool.submit(c) for c in calls]
            return [f.exception() or f.result() for f in futures]
    finally:
        event.remove(kb.db.engine, "before_cursor_execute", hold)


def check_two_approvals_at_once(kb: KnowledgeBase) -> None:
    kb.save_draft(guide(), "alice")
    kb.submit("TEST-01", "alice")
    outcomes = race(kb, "max(kb_guide_versions.version)",
                    lambda: kb.approve("TEST-01", "bob"), lambda: kb.approve("TEST-01", "carol"))
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], WorkflowError) and errors[0].status == 409, outcomes
    assert [v.version for v in kb.history("TEST-01")] == [1] and kb.get("TEST-01").live_version == 1
    assert [e.action for e in kb.audit("TEST-01")].count("publish") == 1


def check_two_saves_of_one_revision(kb: KnowledgeBase) -> None:
    loaded = kb.save_draft(guide(code="TEST-02"), "alice").revision
    outcomes = race(kb, "from kb_guides",
                    lambda: kb.save_draft(guide(code="TEST-02", fee="1元"), "alice", revision=loaded),
                    lambda: kb.save_draft(guide(code="TEST-02", fee="2元"), "bob", revision=loaded))
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], WorkflowError) and errors[0].status == 409, outcomes
    winner = next(o for o in outcomes if not isinstance(o, Exception))
    assert kb.get("TEST-02").draft["fee"] == winner.draft["fee"] and kb.get("TEST-02").revision == loaded + 1


def test_two_concurrent_approvals_publish_once(kb):
    check_two_approvals_at_once(kb)


def test_two_concurrent_saves_of_one_revision_lose_nothing(kb):
    check_two_saves_of_one_revision(kb)


def test_citizens_see_the_live_versions_publish_date_not_the_last_draft_edit(kb):
    from bot.actions.answering import answer_with
    from bot.actions.protocol import ActionCall, Message, Tracker, TrackerState
    from knowledge_base.models import GuideVersion

    published(kb)
    with kb.db.session() as s:  # published long ago
        s.execute(update(GuideVersion).values(published_at=dt.datetime(2025, 3, 4, 2, tzinfo=dt.timezone.utc)))
    kb.save_draft(guide(fee="99元"), "alice")  # edited today, not published
    tracker = Tracker(ActionCall(next_action="action_answer", sender_id="s1",
                                 tracker=TrackerState(latest_message=Message(text="测试事项要多少钱"))))
    text = answer_with(SimpleNamespace(kb=kb), tracker, "TEST-01", "fee", []).messages[0]["text"]
    assert "更新于2025-03-04" in text and "免费" in text and "99元" not in text


def test_migration_0003_withdraws_archived_guides_and_starts_revisions(tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    import govbot.migrations

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(govbot.migrations.__file__).parent))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002_dialogue_safety")
        for code, status in (("OLD-01", "archived"), ("OLD-02", "published")):
            conn.execute(text("INSERT INTO kb_guides (code, title, status, draft, live_version, review_comment, "
                              "updated_by, updated_at) VALUES (:c, '旧', :s, '{}', 3, '', 'eve', '2025-01-01')"),
                         {"c": code, "s": status})
    upgrade(db)
    kb = KnowledgeBase(db)
    old, live = kb.get("OLD-01"), kb.get("OLD-02")
    assert (old.live_version, old.revision, old.edited_by) == (None, 1, "eve")
    assert (live.live_version, live.revision) == (3, 1)
