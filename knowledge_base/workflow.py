"""The editor workflow: draft → in_review → published (immutable versions) → archived; rollback; audit.

Every change runs in one transaction and writes an audit event; the live index watches the audit
log (`knowledge_base.live_index`), so a publish from any process or replica reaches citizens in ~1 s.

Rules: only a reviewer's publish makes content live (archiving drops the live version, so a later draft
edit cannot bring it back); whoever last edited or submitted a draft cannot approve it (four eyes; an
admin may, and the override is audited); every write checks the guide's revision, so of two concurrent
approvals or saves exactly one wins and the other gets 409.
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
from contextlib import contextmanager
from typing import Any, Iterator

from pydantic import ValidationError
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.db import Database
from core.clock import utcnow
from knowledge_base.models import Alias, AuditEvent, Guide, GuideVersion
from knowledge_base.schema import AliasDoc, GuideData

ALIAS_LOG_CODE = "ALIASES"  # the audit-log code of dictionary changes (guide codes always have a dash)
ROLES_THAT_EDIT = {"editor", "reviewer", "admin"}
ROLES_THAT_REVIEW = {"reviewer", "admin"}


class WorkflowError(Exception):
    """A request that breaks the workflow rules; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 409, facts: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.facts = facts or {}  # machine-readable details for the API answer (e.g. what changed)


CONCURRENT_CHANGE = "该事项刚被他人修改，请刷新后重试 / the guide was changed by someone else meanwhile; reload and retry"


class KnowledgeBase:
    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- reading --------------------------------------------------------------------------------
    def get(self, code: str) -> Guide:
        with self.db.session() as s:
            return self._load(s, code)

    @staticmethod
    def _load(s: Session, code: str) -> Guide:
        guide = s.get(Guide, code.upper())
        if guide is None:
            raise WorkflowError(f"事项 {code} 不存在 / no guide with code {code}", 404)
        return guide

    def list(self, query: str = "", status: str = "", limit: int = 100, offset: int = 0) -> list[Guide]:
        with self.db.session() as s:
            stmt = select(Guide).order_by(Guide.code)
            if query:
                stmt = stmt.where(or_(Guide.code.ilike(f"%{query}%"), Guide.title.ilike(f"%{query}%")))
            if status:
                stmt = stmt.where(Guide.status == status)
            return list(s.scalars(stmt.limit(limit).offset(offset)))

    def live(self, codes: list[str] | None = None) -> list[GuideData]:
        """The published content citizens are answered from (archived items have no live version)."""
        with self.db.session() as s:
            stmt = select(GuideVersion.data).join(Guide, (Guide.code == GuideVersion.code)
                                                  & (Guide.live_version == GuideVersion.version))
            if codes is not None:
                stmt = stmt.where(Guide.code.in_(codes))
            return [GuideData.model_validate(d) for d in s.execute(stmt).scalars()]

    def live_versions(self) -> dict[str, int]:
        """code → live version of every answerable guide (cheap: no content)."""
        with self.db.session() as s:
            rows = s.execute(select(Guide.code, Guide.live_version).where(Guide.live_version.is_not(None)))
            return {code: v for code, v in rows}

    def last_change(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.max(AuditEvent.id))) or 0

    def live_guide(self, code: str) -> GuideData | None:
        entry = self.live_entry(code)
        return entry[0] if entry else None

    def live_entry(self, code: str) -> tuple[GuideData, dt.datetime] | None:
        """What citizens see for this guide and when it was published (None when nothing is live)."""
        with self.db.session() as s:
            row = s.execute(select(GuideVersion.data, GuideVersion.published_at).join(
                Guide, (Guide.code == GuideVersion.code) & (Guide.live_version == GuideVersion.version))
                .where(Guide.code == code)).one_or_none()
            return (GuideData.model_validate(row.data), row.published_at) if row else None

    def in_review(self) -> set[str]:
        """Codes of the guides whose draft waits for a reviewer."""
        with self.db.session() as s:
            return set(s.scalars(select(Guide.code).where(Guide.status == "in_review")))

    def history(self, code: str) -> list[GuideVersion]:
        with self.db.session() as s:
            return list(s.scalars(select(GuideVersion).where(GuideVersion.code == code.upper())
                                  .order_by(GuideVersion.version)))

    def version(self, code: str, version: int) -> GuideVersion:
        with self.db.session() as s:
            return self._version(s, code, version)

    @staticmethod
    def _version(s: Session, code: str, version: int) -> GuideVersion:
        row = s.scalars(select(GuideVersion).where(
            GuideVersion.code == code.upper(), GuideVersion.version == version)).one_or_none()
        if row is None:
            raise WorkflowError(f"事项 {code} 没有第 {version} 版 / no version {version} of {code}", 404)
        return row

    def diff(self, code: str, a: int, b: int) -> str:
        def lines(v: int) -> list[str]:
            data = self.version(code, v).data
            return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True).splitlines()

        return "\n".join(difflib.unified_diff(lines(a), lines(b), f"v{a}", f"v{b}", lineterm=""))

    def audit(self, code: str = "", limit: int = 200) -> list[AuditEvent]:
        with self.db.session() as s:
            stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
            if code:
                stmt = stmt.where(AuditEvent.code == code.upper())
            return list(s.scalars(stmt))

    def count(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.count()).select_from(Guide)) or 0

    # ---- writing --------------------------------------------------------------------------------
    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """One unit of work. A concurrent change of the same guide (the ORM's `WHERE revision = …` matched
        no row, or a duplicate code/version) fails the whole transaction with 409 instead of a 500."""
        try:
            with self.db.session() as s:
                yield s
        except (StaleDataError, IntegrityError) as exc:
            raise WorkflowError(CONCURRENT_CHANGE) from exc

    @staticmethod
    def _log(s: Session, actor: str, action: str, code: str, detail: str = "") -> None:
        s.add(AuditEvent(actor=actor, action=action, code=code, detail=detail))

    @staticmethod
    def _check_revision(guide: Guide, expected: int | None, new_draft: dict[str, Any] | None = None) -> None:
        """A write based on an older revision is refused with what changed since (409)."""
        if expected is None or expected == guide.revision:
            return
        differs = [] if new_draft is None else sorted(
            k for k in set(guide.draft) | set(new_draft) if guide.draft.get(k) != new_draft.get(k))
        when = guide.updated_at.strftime("%Y-%m-%d %H:%M:%S")
        raise WorkflowError(
            f"你打开后，{guide.updated_by} 已于 {when} 修改了该事项（当前修订 {guide.revision}，你基于修订 {expected}），"
            f"请重新打开后再改 / revision {expected} is stale: {guide.updated_by} changed the guide at {when} "
            f"(now revision {guide.revision}, status {guide.status})"
            + (f"；与当前草稿不同的字段 / fields differing from the current draft: {', '.join(differs)}"
               if differs else ""),
            facts={"current_revision": guide.revision, "your_revision": expected, "status": guide.status,
                   "updated_by": guide.updated_by, "updated_at": guide.updated_at.isoformat(),
                   "differing_fields": differs})

    def save_draft(self, data: GuideData, actor: str, create_only: bool = False,
                   revision: int | None = None) -> Guide:
        """Create a guide, or save its draft; `revision` is the one the editor loaded (None: no check)."""
        with self._writing() as s:
            return self._save(s, data, actor, create_only, revision)

    def _save(self, s: Session, data: GuideData, actor: str, create_only: bool = False,
              revision: int | None = None) -> Guide:
        doc = data.model_dump(mode="json")
        guide = s.get(Guide, data.code)
        if guide is None:
            if revision is not None:
                raise WorkflowError(f"事项 {data.code} 不存在 / no guide with code {data.code}", 404)
            guide = Guide(code=data.code, title=data.title, status="draft", draft=doc, updated_by=actor,
                          edited_by=actor)
            s.add(guide)
            self._log(s, actor, "create", data.code)
            return guide
        if create_only:
            raise WorkflowError(f"事项编码 {data.code} 已存在 / code {data.code} already exists")
        self._check_revision(guide, revision, doc)
        if guide.status == "in_review":
            raise WorkflowError(f"事项 {data.code} 正在审核，请等待审核结果（驳回后可再改）/ guide is in review")
        # the live version (if any) stays as it is: an edit never makes anything answerable
        guide.draft, guide.title, guide.status = doc, data.title, "draft"
        guide.updated_by = guide.edited_by = actor
        guide.updated_at = utcnow()
        self._log(s, actor, "edit", data.code)
        return guide

    def _transition(self, code: str, actor: str, allowed: set[str], to: str, action: str,
                    comment: str = "", revision: int | None = None) -> Guide:
        with self._writing() as s:
            guide = self._load(s, code)
            self._check_revision(guide, revision)
            if guide.status not in allowed:
                raise WorkflowError(f"当前状态为 {guide.status}，不能执行 {action} / cannot {action} a guide in "
                                    f"status {guide.status}")
            if action == "submit":
                guide.submitted_by = actor
            guide.status, guide.review_comment = to, comment
            guide.updated_by, guide.updated_at = actor, utcnow()
            self._log(s, actor, action, guide.code, comment)
            return guide

    def submit(self, code: str, actor: str, revision: int | None = None) -> Guide:
        return self._transition(code, actor, {"draft"}, "in_review", "submit", revision=revision)

    def reject(self, code: str, actor: str, comment: str, revision: int | None = None) -> Guide:
        if not comment.strip():
            raise WorkflowError("驳回时请填写意见 / a rejection needs a comment", 422)
        return self._transition(code, actor, {"in_review"}, "draft", "reject", comment, revision)

    def _publish(self, s: Session, guide: Guide, data: dict[str, Any], actor: str, note: str,
                 keep_draft: bool = False) -> GuideData:
        latest = s.scalar(select(func.max(GuideVersion.version)).where(GuideVersion.code == guide.code)) or 0
        s.add(GuideVersion(code=guide.code, version=latest + 1, data=data, published_by=actor, note=note))
        guide.live_version = latest + 1
        if not keep_draft:
            guide.status, guide.draft, guide.title = "published", data, data["title"]
        guide.updated_by, guide.updated_at = actor, utcnow()
        self._log(s, actor, "publish", guide.code, f"v{latest + 1} {note}".strip())
        return GuideData.model_validate(data)

    def approve(self, code: str, actor: str, note: str = "", may_override: bool = False,
                revision: int | None = None) -> GuideData:
        """Publish the draft in review. Four eyes: its last editor and its submitter cannot approve it,
        unless `may_override` (admins), which is written to the audit log as an `override` event."""
        with self._writing() as s:
            guide = self._load(s, code)
            self._check_revision(guide, revision)
            if guide.status != "in_review":
                raise WorkflowError("只有待审核的事项可以发布 / only a guide in review can be published")
            if actor in (guide.edited_by, guide.submitted_by):
                if not may_override:
                    raise WorkflowError("四眼原则：你编辑或提交了这份草稿，须由另一位审核员发布 / four eyes: whoever "
                                        "edited or submitted a draft cannot approve it", 403)
                self._log(s, actor, "override", guide.code, f"four-eyes override: approved a draft edited by "
                                                            f"{guide.edited_by}, submitted by {guide.submitted_by}")
            return self._publish(s, guide, guide.draft, actor, note)

    def rollback(self, code: str, to_version: int, actor: str) -> GuideData:
        """Republish an old version as a new one. Never un-archives and never overwrites a draft in review;
        a draft with unpublished edits is kept (status stays `draft`)."""
        with self._writing() as s:
            guide = self._load(s, code)
            if guide.status == "in_review":
                raise WorkflowError("该事项有待审核的草稿，回滚会覆盖它：请先驳回或审核 / a draft is in review; "
                                    "reject or approve it first")
            if guide.live_version is None:
                raise WorkflowError("该事项没有线上版本（已归档或未发布），回滚不能让它重新上线：请编辑草稿并提交审核 / "
                                    "nothing is live (archived or never published); publish through review instead")
            old = self._version(s, code, to_version)
            return self._publish(s, guide, dict(old.data), actor, f"rollback to v{to_version}",
                                 keep_draft=guide.status == "draft")

    def archive(self, code: str, actor: str) -> Guide:
        """Withdraw the guide: it loses its live version, so only a reviewer's publish can bring it back."""
        with self._writing() as s:
            guide = self._load(s, code)
            if guide.status == "archived":
                raise WorkflowError("该事项已归档 / the guide is already archived")
            self._archive(s, guide, actor)
            return guide

    def _archive(self, s: Session, guide: Guide, actor: str, note: str = "") -> None:
        withdrawn = f"withdrew v{guide.live_version}" if guide.live_version else ""
        guide.status, guide.live_version = "archived", None
        guide.updated_by, guide.updated_at = actor, utcnow()
        self._log(s, actor, "archive", guide.code, f"{withdrawn} {note}".strip())

    def publish_directly(self, items: list[GuideData], actor: str, note: str) -> list[GuideData]:
        """First load and tests: write and publish many guides in ONE transaction (all or nothing)."""
        return self.apply_import(items, actor, note)

    def apply_import(self, items: list[GuideData], actor: str, note: str, publish: bool = True,
                     archive: list[str] | tuple[str, ...] = (), aliases: list[AliasDoc] | None = None,
                     replace_aliases: bool = False) -> list[GuideData]:
        """An import in ONE transaction (all or nothing): publish the guides (or save them as drafts), archive
        the live guides a replacing file leaves out, and set the dictionary entries it carries (all of the
        dictionary with `replace_aliases`). A guide whose live content is already what the file says gets no
        new version. A guide in review is refused (its draft would be overwritten, or archived).
        Returns the guides published or saved."""
        written = []
        with self._writing() as s:
            live = dict(s.execute(select(GuideVersion.code, GuideVersion.data).join(
                Guide, (Guide.code == GuideVersion.code) & (Guide.live_version == GuideVersion.version))).all())
            for data in items:
                guide, doc = s.get(Guide, data.code), data.model_dump(mode="json")
                if guide is not None and guide.status == "in_review":
                    raise WorkflowError(f"事项 {data.code} 正在审核，不能导入覆盖 / guide {data.code} is in review")
                if not publish:
                    written.append(GuideData.model_validate(self._save(s, data, actor).draft))
                    continue
                if guide is None:
                    guide = Guide(code=data.code, title=data.title, status="draft", updated_by=actor,
                                  edited_by=actor, draft=doc)
                    s.add(guide)
                    s.flush()
                elif guide.status == "published" and live.get(data.code) == doc:
                    continue  # already live as it is
                written.append(self._publish(s, guide, doc, actor, note))
            for code in archive:
                guide = self._load(s, code)
                if guide.status == "in_review":
                    raise WorkflowError(f"事项 {code} 正在审核，不能归档 / guide {code} is in review")
                self._archive(s, guide, actor, note)
            if aliases is not None:
                self._import_aliases(s, aliases, actor, replace_aliases, note)
        return written

    # ---- the alias / typo dictionary --------------------------------------------------------------
    def aliases(self) -> list[Alias]:
        with self.db.session() as s:
            return list(s.scalars(select(Alias).order_by(Alias.kind, Alias.term)))

    def alias_dictionary(self) -> tuple[dict[str, str], dict[str, str]]:
        """(aliases, typos) as the normaliser takes them."""
        entries = self.aliases()
        return ({a.term: a.canonical for a in entries if a.kind == "alias"},
                {a.term: a.canonical for a in entries if a.kind == "typo"})

    def last_alias_change(self) -> int:
        with self.db.session() as s:
            return s.scalar(select(func.max(AuditEvent.id)).where(AuditEvent.code == ALIAS_LOG_CODE)) or 0

    def add_alias(self, entry: AliasDoc, actor: str) -> Alias:
        with self._writing() as s:
            existing = s.get(Alias, entry.term)
            if existing is not None:
                raise WorkflowError(f"“{entry.term}”已在词典中（→ {existing.canonical}），如需修改请先删除 / "
                                    f"{entry.term} is already in the dictionary")
            alias = Alias(term=entry.term, canonical=entry.canonical, kind=entry.kind, created_by=actor)
            s.add(alias)
            self._log(s, actor, "alias_add", ALIAS_LOG_CODE, f"{entry.term} → {entry.canonical} ({entry.kind})")
            return alias

    def remove_alias(self, term: str, actor: str) -> None:
        with self._writing() as s:
            alias = s.get(Alias, term)
            if alias is None:
                raise WorkflowError(f"词典中没有“{term}” / {term} is not in the dictionary", 404)
            s.delete(alias)
            self._log(s, actor, "alias_remove", ALIAS_LOG_CODE, f"{alias.term} → {alias.canonical} ({alias.kind})")

    def _import_aliases(self, s: Session, entries: list[AliasDoc], actor: str, replace: bool, note: str) -> None:
        current = {a.term: a for a in s.scalars(select(Alias))}
        added = changed = removed = 0
        for e in entries:
            alias = current.pop(e.term, None)
            if alias is None:
                s.add(Alias(term=e.term, canonical=e.canonical, kind=e.kind, created_by=actor))
                added += 1
            elif (alias.canonical, alias.kind) != (e.canonical, e.kind):
                alias.canonical, alias.kind, alias.created_by, alias.created_at = e.canonical, e.kind, actor, utcnow()
                changed += 1
        if replace:
            for alias in current.values():
                s.delete(alias)
                removed += 1
        if added or changed or removed:
            self._log(s, actor, "aliases_import", ALIAS_LOG_CODE,
                      f"+{added} ~{changed} -{removed} {note}".strip())


_REASONS_ZH = {  # pydantic error type → what an editor reads (the English message follows)
    "missing": "必填", "string_too_short": "不能为空", "string_too_long": "内容过长", "extra_forbidden": "未知字段",
    "greater_than_equal": "不能小于 {ge}", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "date_parsing": "日期格式应为 2025-01-31", "date_from_datetime_parsing": "日期格式应为 2025-01-31",
    "literal_error": "应为 {expected} 之一", "list_type": "应为列表", "string_type": "应为文字",
}


def _reason(e: dict[str, Any]) -> str:
    if e["type"] == "value_error":  # our validators' messages are Chinese / English already
        return str(e["msg"]).removeprefix("Value error, ")
    zh = _REASONS_ZH.get(e["type"])
    return f"{zh.format(**e.get('ctx', {}))} / {e['msg']}" if zh else e["msg"]


def validation_errors(exc: ValidationError) -> list[dict[str, str]]:
    """Pydantic errors as (field, reason) pairs for API answers and import reports, the reason in Chinese
    first."""
    return [{"field": ".".join(str(p) for p in e["loc"]) or "(document)", "reason": _reason(e)} for e in exc.errors()]
