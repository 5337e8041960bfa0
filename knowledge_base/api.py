"""Editor API under /api/v1/kb: guides, workflow, versions, audit, import/export (replace, dry run), the
alias / typo dictionary, the safety policy, retrieval test box.

Roles: editor (write drafts, submit), reviewer (also approve/reject/archive/rollback/publish imports),
admin (everything; may approve their own draft, audited). Citizens and agents cannot write.

Optimistic locking: every guide answer carries its `revision` (also as the ETag header); a draft save must
send the revision it edits (If-Match header or a `revision` field) and gets 409 with what changed when it
is stale. Submit, approve and reject accept it too."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.types import Message

from core.auth import ApiUser, page_user, require
from knowledge_base.models import Alias, Guide, SafetyTopic
from knowledge_base.safety import SafetyPolicy, SafetyTopicDoc
from knowledge_base.schema import AliasDoc, GuideData
from knowledge_base.transfer import FORMATS, export, import_file
from knowledge_base.workflow import KnowledgeBase, WorkflowError, validation_errors

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge base"])
pages = APIRouter()
EDITORS = require("editor", "reviewer", "admin")
REVIEWERS = require("reviewer", "admin")
FORM_OVERHEAD_BYTES = 64 * 1024  # multipart boundaries and the small form fields around the file
MEDIA = {"json": "application/json", "yaml": "application/yaml", "csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _kb(request: Request) -> KnowledgeBase:
    return request.app.state.services.kb


def _guide_out(g: Guide) -> dict[str, Any]:
    return {"code": g.code, "title": g.title, "status": g.status, "live_version": g.live_version,
            "revision": g.revision, "review_comment": g.review_comment, "updated_by": g.updated_by,
            "updated_at": g.updated_at.isoformat(), "edited_by": g.edited_by, "submitted_by": g.submitted_by,
            "draft": g.draft}


def _tagged(response: Response, g: Guide) -> dict[str, Any]:
    """The guide, with its revision as the ETag (what a later save sends back in If-Match)."""
    response.headers["ETag"] = f'"{g.revision}"'
    return _guide_out(g)


def _revision(if_match: str | None, field: Any = None) -> int | None:
    """The revision a write is based on, from If-Match (an ETag we sent) or a `revision` field."""
    values = set()
    if if_match is not None:
        tag = if_match.strip().removeprefix("W/").strip('"')
        if not tag.isdigit():
            raise HTTPException(422, detail=f"If-Match 应为读取事项时返回的 ETag（如 \"3\"）/ If-Match must be an "
                                            f"ETag we sent, got {if_match!r}")
        values.add(int(tag))
    if field is not None:
        if not isinstance(field, int) or isinstance(field, bool):
            raise HTTPException(422, detail="revision 应为整数 / revision must be an integer")
        values.add(field)
    if len(values) > 1:
        raise HTTPException(422, detail="If-Match 与 revision 不一致 / If-Match and revision disagree")
    return values.pop() if values else None


def _parse(body: dict[str, Any], code: str | None = None) -> GuideData:
    if code is not None:
        body = {**body, "code": code}
    try:
        return GuideData.model_validate(body)
    except ValidationError as exc:
        raise HTTPException(422, detail={"message": "指南内容校验未通过 / guide is invalid",
                                         "errors": validation_errors(exc)}) from exc


def _run(fn, *args, **kwargs) -> Any:
    try:
        return fn(*args, **kwargs)
    except WorkflowError as exc:
        raise HTTPException(exc.status, detail={"message": str(exc), **exc.facts} if exc.facts else str(exc)) from exc


class Comment(BaseModel):
    comment: str = ""
    revision: int | None = None  # the revision reviewed (or the If-Match header)


class RollbackTo(BaseModel):
    version: int


@router.get("/guides")
def list_guides(request: Request, q: str = "", status: str = "", limit: int = Query(100, ge=1, le=1000),
                offset: int = Query(0, ge=0), user: ApiUser = Depends(EDITORS)) -> list[dict[str, Any]]:
    return [{k: v for k, v in _guide_out(g).items() if k != "draft"}
            for g in _kb(request).list(q, status, limit, offset)]


@router.get("/guides/{code}")
def get_guide(code: str, request: Request, response: Response, user: ApiUser = Depends(EDITORS)) -> dict:
    return _tagged(response, _run(_kb(request).get, code))


@router.post("/guides", status_code=201)
def create_guide(body: dict[str, Any], request: Request, response: Response,
                 user: ApiUser = Depends(EDITORS)) -> dict[str, Any]:
    return _tagged(response, _run(_kb(request).save_draft, _parse(body), user.name, create_only=True))


@router.put("/guides/{code}")
def save_guide(code: str, body: dict[str, Any], request: Request, response: Response,
               if_match: str | None = Header(None), user: ApiUser = Depends(EDITORS)) -> dict[str, Any]:
    """Save the draft. Send the revision you loaded (If-Match: the ETag, or `"revision": n` in the body)."""
    body = dict(body)
    revision = _revision(if_match, body.pop("revision", None))
    if revision is None:
        raise HTTPException(428, detail="保存草稿须带上所编辑的修订号（If-Match 头或 revision 字段），以免覆盖他人的修改 / "
                                        "a save must send the revision it edits (If-Match or revision)")
    return _tagged(response, _run(_kb(request).save_draft, _parse(body, code.upper()), user.name,
                                  revision=revision))


@router.post("/guides/{code}/submit")
def submit(code: str, request: Request, response: Response, if_match: str | None = Header(None),
           user: ApiUser = Depends(EDITORS)) -> dict[str, Any]:
    return _tagged(response, _run(_kb(request).submit, code, user.name, revision=_revision(if_match)))


@router.post("/guides/{code}/approve")
def approve(code: str, request: Request, response: Response, body: Comment | None = None,
            if_match: str | None = Header(None), user: ApiUser = Depends(REVIEWERS)) -> dict[str, Any]:
    """Publish the draft in review. Its last editor or submitter gets 403 (four eyes); an admin may
    approve anyway, which is audited as an `override` event."""
    body = body or Comment()
    _run(_kb(request).approve, code, user.name, body.comment, may_override=user.role == "admin",
         revision=_revision(if_match, body.revision))
    return _tagged(response, _run(_kb(request).get, code))


@router.post("/guides/{code}/reject")
def reject(code: str, body: Comment, request: Request, response: Response, if_match: str | None = Header(None),
           user: ApiUser = Depends(REVIEWERS)) -> dict[str, Any]:
    return _tagged(response, _run(_kb(request).reject, code, user.name, body.comment,
                                  revision=_revision(if_match, body.revision)))


@router.post("/guides/{code}/archive")
def archive(code: str, request: Request, response: Response, user: ApiUser = Depends(REVIEWERS)) -> dict:
    return _tagged(response, _run(_kb(request).archive, code, user.name))


@router.get("/guides/{code}/versions")
def versions(code: str, request: Request, user: ApiUser = Depends(EDITORS)) -> list[dict[str, Any]]:
    return [{"version": v.version, "published_by": v.published_by, "published_at": v.published_at.isoformat(),
             "note": v.note} for v in _kb(request).history(code)]


@router.get("/guides/{code}/versions/{version}")
def version(code: str, version: int, request: Request, user: ApiUser = Depends(EDITORS)) -> dict[str, Any]:
    return _run(_kb(request).version, code, version).data


@router.get("/guides/{code}/diff")
def diff(code: str, a: int, b: int, request: Request, user: ApiUser = Depends(EDITORS)) -> dict[str, str]:
    return {"diff": _run(_kb(request).diff, code, a, b)}


@router.post("/guides/{code}/rollback")
def rollback(code: str, body: RollbackTo, request: Request, response: Response,
             user: ApiUser = Depends(REVIEWERS)) -> dict[str, Any]:
    _run(_kb(request).rollback, code, body.version, user.name)
    return _tagged(response, _run(_kb(request).get, code))


@router.get("/audit")
def audit(request: Request, code: str = "", user: ApiUser = Depends(EDITORS)) -> list[dict[str, Any]]:
    return [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "code": e.code, "detail": e.detail}
            for e in _kb(request).audit(code)]


def _too_large(limit: int) -> HTTPException:
    size = f"{limit / 1_048_576:.1f} MB" if limit >= 1_048_576 else f"{limit} B"
    return HTTPException(413, detail=f"上传文件超过 {size} 的上限，请拆分后分批导入 / the upload exceeds the {size} "
                                     f"limit (GOVBOT_IMPORT_MAX_BYTES)")


def _bounded_request(request: Request, limit: int) -> Request:
    """The same request, whose body stops with 413 once it grows past `limit` (chunked uploads too)."""
    received = 0

    async def receive() -> Message:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise _too_large(limit)
        return message

    return Request(request.scope, receive)


def _flag(form_value: Any, name: str, default: bool) -> bool:
    if form_value is None:
        return default
    value = str(form_value).strip().lower()
    if value in ("true", "1", "yes", "on"):
        return True
    if value in ("false", "0", "no", "off"):
        return False
    raise HTTPException(422, detail=f"{name} 应为 true 或 false / {name} must be true or false")


IMPORT_FORM = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"},
        "publish": {"type": "boolean", "default": True},
        "skip_bad": {"type": "boolean", "default": False},
        "replace": {"type": "boolean", "default": False},
        "dry_run": {"type": "boolean", "default": False}}}}}}}


@router.post("/import", openapi_extra=IMPORT_FORM)
async def import_guides(request: Request, user: ApiUser = Depends(EDITORS)) -> dict[str, Any]:
    """Multipart `file` (+ `publish`, `skip_bad`, `replace`, `dry_run`). `replace=true` (reviewers) also
    archives every live guide the file leaves out; `dry_run=true` answers what would be added, changed
    and archived, and writes nothing. The body is read only after authentication, up to
    GOVBOT_IMPORT_MAX_BYTES (413 beyond); parsing and writing run off the event loop."""
    limit = request.app.state.services.settings.import_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD_BYTES:
        raise _too_large(limit)  # refused before reading a byte of the body
    async with _bounded_request(request, limit + FORM_OVERHEAD_BYTES).form(max_files=1, max_fields=6) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(422, detail="缺少上传文件（表单字段 file）/ missing the multipart field file")
        if upload.size is not None and upload.size > limit:
            raise _too_large(limit)
        raw, filename = await upload.read(), upload.filename or "upload"
        publish, skip_bad = _flag(form.get("publish"), "publish", True), _flag(form.get("skip_bad"), "skip_bad", False)
        replace, dry_run = _flag(form.get("replace"), "replace", False), _flag(form.get("dry_run"), "dry_run", False)
    if (publish or replace) and not dry_run and user.role not in ("reviewer", "admin"):
        raise HTTPException(403, detail="编辑只能导入为草稿（publish=false）；直接发布或替换需要审核员 / editors import as drafts")
    report = await run_in_threadpool(_run, import_file, _kb(request), raw, filename, user.name, publish, skip_bad,
                                     replace, dry_run)
    body = {"imported": len(report.guides) if report.written else 0, "kind": report.kind, "dry_run": dry_run,
            "encoding": report.encoding, "summary": vars(report.summary), "errors": [vars(e) for e in report.errors]}
    if report.errors and not skip_bad:
        raise HTTPException(422, detail={"message": f"导入未执行：发现 {len(report.errors)} 处错误，文件未写入", **body})
    return body


def _alias_out(a: Alias) -> dict[str, Any]:
    return {"term": a.term, "canonical": a.canonical, "kind": a.kind, "created_by": a.created_by,
            "created_at": a.created_at.isoformat()}


@router.get("/aliases")
def list_aliases(request: Request, user: ApiUser = Depends(EDITORS)) -> list[dict[str, Any]]:
    """The alias / typo dictionary retrieval rewrites questions with (colloquial name → the guides' wording)."""
    return [_alias_out(a) for a in _kb(request).aliases()]


@router.post("/aliases", status_code=201)
def add_alias(body: dict[str, Any], request: Request, user: ApiUser = Depends(EDITORS)) -> dict[str, Any]:
    """`{"term", "canonical", "kind": "alias"|"typo"}`; live in every process within about a second (audited)."""
    try:
        entry = AliasDoc.model_validate(body)
    except ValidationError as exc:
        raise HTTPException(422, detail={"message": "词条校验未通过 / the entry is invalid",
                                         "errors": validation_errors(exc)}) from exc
    return _alias_out(_run(_kb(request).add_alias, entry, user.name))


@router.delete("/aliases/{term}", status_code=204)
def remove_alias(term: str, request: Request, user: ApiUser = Depends(EDITORS)) -> Response:
    _run(_kb(request).remove_alias, term, user.name)
    return Response(status_code=204)


def _policy(request: Request) -> SafetyPolicy:
    return request.app.state.services.safety_policy


def _topic_out(doc: SafetyTopicDoc, row: SafetyTopic) -> dict[str, Any]:
    return {**doc.model_dump(), "updated_by": row.updated_by, "updated_at": row.updated_at.isoformat()}


@router.get("/safety-topics")
def list_safety_topics(request: Request, user: ApiUser = Depends(EDITORS)) -> list[dict[str, Any]]:
    """The safety policy: topics checked on every citizen message before anything else, highest priority first."""
    return [_topic_out(doc, row) for doc, row in _policy(request).entries()]


@router.get("/safety-topics/{key}")
def get_safety_topic(key: str, request: Request, user: ApiUser = Depends(EDITORS)) -> dict[str, Any]:
    return _topic_out(*_run(_policy(request).get, key))


@router.put("/safety-topics/{key}")
def put_safety_topic(key: str, body: dict[str, Any], request: Request,
                     user: ApiUser = Depends(EDITORS)) -> dict[str, Any]:
    """Create or replace a topic (the whole document, as GET gives it; `enabled: false` switches it off).
    Audited; every process answers by it from the next message on."""
    body = {k: v for k, v in body.items() if k not in ("updated_by", "updated_at")}  # read-only
    if body.get("key", key) != key:
        raise HTTPException(422, detail=f"请求体中的 key（{body.get('key')}）与地址中的 {key} 不一致 / key differs from the URL")
    try:
        doc = SafetyTopicDoc.model_validate({**body, "key": key})
    except ValidationError as exc:
        raise HTTPException(422, detail={"message": "安全话题校验未通过 / the topic is invalid",
                                         "errors": validation_errors(exc)}) from exc
    _run(_policy(request).put, doc, user.name)
    return _topic_out(*_run(_policy(request).get, key))


@router.get("/export")
def export_guides(request: Request, format: str = "json", user: ApiUser = Depends(EDITORS)) -> Response:
    if format not in FORMATS:
        raise HTTPException(422, detail=f"format 应为 {', '.join(FORMATS)} 之一")
    return Response(export(_kb(request), format), media_type=MEDIA[format],
                    headers={"Content-Disposition": f'attachment; filename="guides.{format}"'})


@router.get("/search")
def search(request: Request, q: str = Query(min_length=1, max_length=500),
           user: ApiUser = Depends(EDITORS)) -> dict[str, Any]:
    """The editor's test box: what the bot would decide for this question, with scores."""
    r = request.app.state.services.retriever.search(q)
    return {"question": q, "decision": r.decision, "confidence": round(r.confidence, 4),
            "offered": [m.as_dict() for m in r.offered], "matches": [m.as_dict() for m in r.matches]}


@router.get("/calibration")
def calibration(request: Request, user: ApiUser = Depends(EDITORS)) -> dict[str, Any]:
    """The answer / clarify calibration in use: this instance's own fit on its live knowledge base (date,
    fingerprint, measured figures) or the shipped one, and whether a re-fit is under way."""
    return request.app.state.services.self_calibrator.status()


@pages.get("/editor", response_class=HTMLResponse, include_in_schema=False)
def editor_page(request: Request) -> Response:
    if page_user(request) is None:
        return RedirectResponse("/login?next=/editor", status_code=303)
    return HTMLResponse((Path(__file__).parent / "static" / "editor.html").read_text(encoding="utf-8"))
