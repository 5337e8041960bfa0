"""Editor API under /api/v1/kb: guides, workflow, versions, audit, import/export, retrieval test box.

Roles: editor (write drafts, submit), reviewer (also approve/reject/archive/rollback/publish imports),
admin (everything). Citizens and agents cannot write."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from core.auth import ApiUser, page_user, require
from knowledge_base.models import Guide
from knowledge_base.schema import GuideData
from knowledge_base.transfer import FORMATS, export, import_file
from knowledge_base.workflow import KnowledgeBase, WorkflowError, validation_errors

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge base"])
pages = APIRouter()
EDITORS = require("editor", "reviewer", "admin")
REVIEWERS = require("reviewer", "admin")
MEDIA = {"json": "application/json", "yaml": "application/yaml", "csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _kb(request: Request) -> KnowledgeBase:
    return request.app.state.services.kb


def _guide_out(g: Guide) -> dict[str, Any]:
    return {"code": g.code, "title": g.title, "status": g.status, "live_version": g.live_version,
            "review_comment": g.review_comment, "updated_by": g.updated_by,
            "updated_at": g.updated_at.isoformat(), "draft": g.draft}


def _parse(body: dict[str, Any], code: str | None = None) -> GuideData:
    if code is not None:
        body = {**body, "code": code}
    try:
        return GuideData.model_validate(body)
    except ValidationError as exc:
        raise HTTPException(422, detail={"message": "指南内容校验未通过 / guide is invalid",
                                         "errors": validation_errors(exc)}) from exc


def _run(fn, *args) -> Any:
    try:
        return fn(*args)
    except WorkflowError as exc:
        raise HTTPException(exc.status, detail=str(exc)) from exc


class Comment(BaseModel):
    comment: str = ""


class RollbackTo(BaseModel):
    version: int


@router.get("/guides")
def list_guides(request: Request, q: str = "", status: str = "", limit: int = Query(100, le=1000),
                offset: int = 0, user: ApiUser = Depends(EDITORS)) -> list[dict[str, Any]]:
    return [{k: v for k, v in _guide_out(g).items() if k != "draft"}
            for g in _kb(request).list(q, status, limit, offset)]


@router.get("/guides/{code}")
def get_guide(code: str, request: Request, user: ApiUser = Depends(EDITORS)) -> dict[str, Any]:
    return _guide_out(_run(_kb(request).get, code))


@router.post("/guides", status_code=201)
def create_guide(body: dict[str, Any], request: Request, user: ApiUser = Depends(EDITORS)) -> dict[str, Any]:
    return _guide_out(_run(lambda: _kb(request).save_draft(_parse(body), user.name, create_only=True)))


@router.put("/guides/{code}")
def save_guide(code: str, body: dict[str, Any], request: Request, user: ApiUser = Depends(EDITORS)) -> dict:
    _run(_kb(request).get, code)
    return _guide_out(_run(_kb(request).save_draft, _parse(body, code.upper()), user.name))


@router.post("/guides/{code}/submit")
def submit(code: str, request: Request, user: ApiUser = Depends(EDITORS)) -> dict[str, Any]:
    return _guide_out(_run(_kb(request).submit, code, user.name))


@router.post("/guides/{code}/approve")
def approve(code: str, request: Request, body: Comment | None = None, user: ApiUser = Depends(REVIEWERS)) -> dict:
    _run(_kb(request).approve, code, user.name, body.comment if body else "")
    return _guide_out(_run(_kb(request).get, code))


@router.post("/guides/{code}/reject")
def reject(code: str, body: Comment, request: Request, user: ApiUser = Depends(REVIEWERS)) -> dict[str, Any]:
    return _guide_out(_run(_kb(request).reject, code, user.name, body.comment))


@router.post("/guides/{code}/archive")
def archive(code: str, request: Request, user: ApiUser = Depends(REVIEWERS)) -> dict[str, Any]:
    return _guide_out(_run(_kb(request).archive, code, user.name))


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
def rollback(code: str, body: RollbackTo, request: Request, user: ApiUser = Depends(REVIEWERS)) -> dict:
    _run(_kb(request).rollback, code, body.version, user.name)
    return _guide_out(_run(_kb(request).get, code))


@router.get("/audit")
def audit(request: Request, code: str = "", user: ApiUser = Depends(EDITORS)) -> list[dict[str, Any]]:
    return [{"at": e.at.isoformat(), "actor": e.actor, "action": e.action, "code": e.code, "detail": e.detail}
            for e in _kb(request).audit(code)]


@router.post("/import")
async def import_guides(request: Request, file: UploadFile = File(...), publish: bool = Form(True),
                        skip_bad: bool = Form(False), user: ApiUser = Depends(EDITORS)) -> dict[str, Any]:
    if publish and user.role not in ("reviewer", "admin"):
        raise HTTPException(403, detail="编辑只能导入为草稿（publish=false）；直接发布需要审核员 / editors import as drafts")
    report = import_file(_kb(request), await file.read(), file.filename or "upload", user.name, publish, skip_bad)
    body = {"imported": len(report.guides) if (report.ok or skip_bad) else 0, "kind": report.kind,
            "encoding": report.encoding, "errors": [vars(e) for e in report.errors]}
    if report.errors and not skip_bad:
        raise HTTPException(422, detail={"message": f"导入未执行：发现 {len(report.errors)} 处错误，文件未写入", **body})
    return body


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


@pages.get("/editor", response_class=HTMLResponse, include_in_schema=False)
def editor_page(request: Request) -> Response:
    if page_user(request) is None:
        return RedirectResponse("/login?next=/editor", status_code=303)
    return HTMLResponse((Path(__file__).parent / "static" / "editor.html").read_text(encoding="utf-8"))
