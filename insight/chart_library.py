"""The chart library the dashboard and the reports draw with: Chart.js, installed from npm at setup time
(`make setup` → node_modules/chart.js), served by the app and inlined into reports; never from a CDN."""
from __future__ import annotations

from pathlib import Path

from core.settings import ROOT

CHART_JS = ROOT / "node_modules" / "chart.js" / "dist" / "chart.umd.min.js"
MISSING = ("图表库 Chart.js 未安装：请运行 make setup（npm install chart.js） / the chart library is missing: "
           f"run `make setup` (npm install chart.js) so that {CHART_JS.relative_to(ROOT)} exists")


class ChartLibraryMissing(RuntimeError):
    pass


def chart_js() -> Path:
    if not CHART_JS.exists():
        raise ChartLibraryMissing(MISSING)
    return CHART_JS
