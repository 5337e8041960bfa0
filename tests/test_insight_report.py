"""`govbot report`: one self-contained HTML file (opens offline) and a short text summary; a clear message
when the chart library is missing."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.conftest import auth


@pytest.fixture
def cli_env(services, monkeypatch, tmp_path):
    from core.settings import get_settings

    monkeypatch.setenv("GOVBOT_VAR_DIR", str(services.settings.var_dir))
    monkeypatch.setenv("DATABASE_URL", services.settings.database_url)
    get_settings.cache_clear()
    yield services
    get_settings.cache_clear()


def test_report_is_self_contained_and_prints_a_summary(cli_env, tmp_path, capsys):
    from govbot.cli import main
    from insight.analytics import Period
    from insight.synthetic import generate, replay

    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    replay(cli_env.db, generate(400, now, 7, [("GA-CR-01", "普通护照申领"), ("GJJ-01", "住房公积金提取（购房）")]))
    out = tmp_path / "week.html"
    main(["report", "--since", "7d", "--output", str(out)])
    printed = capsys.readouterr().out
    figures = cli_env.insight.overview(Period.last_days(7))
    assert f"questions {figures['questions']:,}" in printed and "普通护照申领" in printed
    html = out.read_text(encoding="utf-8")
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", html)  # nothing to fetch: opens offline
    assert "Chart.js" in html and "GovbotCharts" in html  # the chart library and our drawing code, inlined
    assert f'"questions": {figures["questions"]}' in html


def test_report_since_must_be_days_or_a_date(cli_env, tmp_path):
    from govbot.cli import main

    with pytest.raises(SystemExit, match="--since takes"):
        main(["report", "--since", "last week", "--output", str(tmp_path / "x.html")])


def test_a_missing_chart_library_is_named_with_the_fix(cli_env, app_client, tmp_path, monkeypatch):
    from govbot.cli import main
    from insight import chart_library

    monkeypatch.setattr(chart_library, "CHART_JS", tmp_path / "nowhere" / "chart.umd.min.js")
    with pytest.raises(SystemExit, match="make setup"):
        main(["report", "--since", "7d", "--output", str(tmp_path / "x.html")])
    resp = app_client.get("/static/vendor/chart.umd.min.js")
    assert resp.status_code == 503 and "npm install chart.js" in resp.text


def test_the_dashboard_page_needs_a_signed_in_operator(app_client):
    page = app_client.get("/insight", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/insight"
    assert app_client.get("/static/vendor/chart.umd.min.js").status_code == 200
    assert app_client.get("/static/insight/dashboard.js").status_code == 200
    assert app_client.get("/api/v1/insight/gaps", headers=auth("editor")).json() == []
