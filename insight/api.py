"""The analytics API and the dashboard page (editors, reviewers and admins)."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.auth import ApiUser, page_user, require
from insight.analytics import Analytics, Period, PeriodError, figures_csv_rows
from insight.chart_library import ChartLibraryMissing, chart_js
from insight.gaps import GapMiner
from insight.models import GapCluster
from insight.rollup import catch_up
from knowledge_base.workflow import WorkflowError, validation_errors

STATIC = Path(__file__).parent / "static"
analyst = require("editor", "reviewer", "admin")
router = APIRouter(prefix="/api/v1/insight", tags=["insight"])
pages = APIRouter()


def _analytics(request: Request) -> Analytics:
    svc = request.app.state.services
    catch_up(svc.db)  # count what was logged since the last view (cheap when nothing is new)
    return svc.insight


def _parse_period(start: str | None, end: str | None) -> Period:
    try:
        return Period.parse(start, end)
    except PeriodError as exc:
        raise HTTPException(422, detail=str(exc)) from exc


def _period(start: str | None = Query(None, alias="from", description="local date YYYY-MM-DD (included)"),
            end: str | None = Query(None, alias="to", description="local date YYYY-MM-DD (included)")) -> Period:
    """Default: the 30 days ending today."""
    return _parse_period(start, end)


def _gap_out(g: GapCluster) -> dict[str, Any]:
    return {"id": g.id, "label": g.label, "size": g.size, "examples": g.examples, "this_week": g.this_week,
            "last_week": g.last_week, "near_code": g.near_code, "status": g.status, "draft_code": g.draft_code}


@router.get("/overview")
def overview(request: Request, period: Period = Depends(_period), _: ApiUser = Depends(analyst)) -> dict:
    """Volume by day, hour and channel; decisions and rates; satisfaction; latency."""
    return _analytics(request).overview(period)


@router.get("/services")
def services(request: Request, period: Period = Depends(_period), _: ApiUser = Depends(analyst)) -> dict:
    return _analytics(request).services(period)


@router.get("/questions")
def questions(request: Request, period: Period = Depends(_period), _: ApiUser = Depends(analyst)) -> dict:
    return _analytics(request).questions(period)


@router.get("/trends")
def trends(request: Request, period: Period = Depends(_period), _: ApiUser = Depends(analyst)) -> dict:
    """Services rising in the week ending `to`, against the week before."""
    return _analytics(request).trends(period.end)


@router.get("/export.csv")
def export_csv(request: Request, period: Period = Depends(_period), _: ApiUser = Depends(analyst)) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(("figure", "key", "value"))
    writer.writerows(figures_csv_rows(_analytics(request).figures(period)))
    name = f"govbot-insight-{period.start}-{period.end}.csv"
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",  # BOM: Excel reads UTF-8
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


class MineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: str | None = Field(None, alias="from")
    end: str | None = Field(None, alias="to")


class DraftRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["guide", "faq", "alias"]
    code: str = ""


def _gaps(request: Request) -> GapMiner:
    return request.app.state.services.gaps


@router.get("/gaps")
def gaps(request: Request, _: ApiUser = Depends(analyst)) -> list[dict]:
    return [_gap_out(g) for g in _gaps(request).list()]


@router.post("/gaps/mine")
def mine_gaps(body: MineRequest, request: Request, _: ApiUser = Depends(analyst)) -> list[dict]:
    return [_gap_out(g) for g in _gaps(request).mine(_parse_period(body.start, body.end))]


@router.post("/gaps/{cluster_id}/draft")
def gap_to_draft(cluster_id: int, body: DraftRequest, request: Request,
                 user: ApiUser = Depends(analyst)) -> dict:
    try:
        data = _gaps(request).to_draft(cluster_id, body.kind, user.name, body.code.strip().upper())
    except WorkflowError as exc:
        raise HTTPException(exc.status, detail=str(exc)) from exc
    except ValidationError as exc:
        raise HTTPException(422, detail=validation_errors(exc)) from exc
    return {"code": data.code, "title": data.title, "status": "draft"}


@pages.get("/insight", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(request: Request) -> Response:
    if page_user(request) is None:
        return RedirectResponse("/login?next=/insight", status_code=303)
    return HTMLResponse((STATIC / "dashboard.html").read_text(encoding="utf-8"))


@pages.get("/static/vendor/chart.umd.min.js", include_in_schema=False)
def chart_library() -> FileResponse:
    try:
        return FileResponse(chart_js(), media_type="text/javascript")
    except ChartLibraryMissing as exc:
        raise HTTPException(503, detail=str(exc)) from exc
