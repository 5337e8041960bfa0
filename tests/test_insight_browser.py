"""The insight dashboard in a real browser (Debian's chromium via Playwright): sign in, real charts drawn by
Chart.js under the strict CSP, a gap cluster turned into a draft. Screenshot: test-artifacts/insight-dashboard.png."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.browser import ARTIFACTS, chromium, served

pytestmark = pytest.mark.slow
PORT = 18140


@pytest.fixture
def dashboard_server(services):
    from core.auth import add_user
    from govbot.app import create_app
    from insight.analytics import Period
    from insight.rollup import catch_up
    from insight.synthetic import MISSING, generate, replay

    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=1)
    replay(services.db, generate(3000, now, 30, [(g.code, g.title) for g in services.kb.live()], seed=5))
    catch_up(services.db)
    services.gaps.mine(Period.last_days(30))
    add_user(services.db, "analyst", "editor", password="Insight-pass-2024")
    with served(create_app(services.settings, services), PORT) as url:
        yield url, MISSING


def test_dashboard_draws_charts_and_turns_a_gap_into_a_draft(dashboard_server):

    base, missing = dashboard_server
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "Failed to load" not in m.text
                else None)
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
                if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(f"{base}/insight")
        page.wait_for_url("**/login?next=/insight")  # not signed in: sent to the sign-in page
        page.fill("#name", "analyst")
        page.fill("#password", "Insight-pass-2024")
        page.click("button[type=submit]")
        page.wait_for_url("**/insight")
        page.wait_for_selector(".kpi-value", timeout=30000)
        page.wait_for_selector("#gaps table", timeout=30000)
        canvases = page.locator("#figures canvas")
        assert canvases.count() >= 9
        drawn = page.evaluate("""() => [...document.querySelectorAll('#figures canvas')].map(c =>
            c.width > 0 && c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v !== 0))""")
        assert all(drawn), drawn  # Chart.js painted every chart
        assert page.locator(".kpi-value").first.inner_text() != "0"
        page.screenshot(path=str(ARTIFACTS / "insight-dashboard.png"), full_page=True)

        page.click("button[data-days='7']")
        page.wait_for_function("document.querySelector('.period').textContent.includes('至')")
        gap = page.locator("#gaps tbody tr", has_text=missing[1])  # a service the knowledge base lacks
        assert "待处理" in gap.inner_text()
        gap.get_by_role("button", name="新建事项草稿").click()
        page.wait_for_selector("text=已生成草稿", timeout=30000)
        page.wait_for_selector("#gaps .status-drafted", timeout=30000)
        page.screenshot(path=str(ARTIFACTS / "insight-gap-drafted.png"), full_page=True)

        assert page.locator("#who").inner_text() == "analyst（编辑）"  # who is signed in
        page.click("#signout")  # POST /api/v1/auth/logout with the CSRF header ends the session
        page.wait_for_url("**/login?next=/insight")
        page.goto(f"{base}/insight")
        page.wait_for_url("**/login?next=/insight")  # the old session cookie no longer opens the dashboard
    assert not problems, problems  # no script error, no CSP violation
