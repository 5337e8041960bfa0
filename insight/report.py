"""`govbot report`: the dashboard's figures as one self-contained HTML file (chart library, styles, scripts
and data inlined: it opens offline) and a short text summary."""
from __future__ import annotations

import html
import json
from pathlib import Path

from insight.analytics import Period
from insight.chart_library import chart_js
from insight.models import GapCluster

STATIC = Path(__file__).parent / "static"


def _script(code: str) -> str:
    return "<script>" + code.replace("</script", "<\\/script") + "</script>"


def render_html(figures: dict, gaps: list[GapCluster]) -> str:
    period = figures["overview"]["period"]
    data = {"figures": figures,
            "gaps": [{"label": g.label, "size": g.size, "examples": g.examples, "this_week": g.this_week,
                      "last_week": g.last_week, "status": g.status} for g in gaps]}
    payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    title = f"政务通需求洞察报告 {period['from']} 至 {period['to']}"
    return "\n".join([
        "<!doctype html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        "<style>" + (STATIC / "dashboard.css").read_text(encoding="utf-8") + "</style>",
        _script(chart_js().read_text(encoding="utf-8")),
        _script((STATIC / "charts.js").read_text(encoding="utf-8")),
        _script((STATIC / "report.js").read_text(encoding="utf-8")),
        f'<script type="application/json" id="report-data">{payload}</script>',
        f"</head><body><header><h1>{html.escape(title)}</h1></header><main>",
        '<div id="figures"></div>', '<div class="gaps-head"><h2>知识缺口</h2></div><div id="gaps"></div>',
        "</main></body></html>"])


def summary(figures: dict, gaps: list[GapCluster]) -> str:
    o, s, t = figures["overview"], figures["services"], figures["trends"]

    def pct(v: float | None) -> str:
        return "—" if v is None else f"{v * 100:.1f}%"

    r, sat, lat = o["rates"], o["satisfaction"], o["latency"]
    lines = [f"GovBot insight {o['period']['from']} … {o['period']['to']}",
             f"  questions {o['questions']:,}, replies {o['replies']:,}: answered {pct(r['answer'])}, "
             f"clarified {pct(r['clarify'])}, unanswered {pct(r['unanswered'])}, handed to a human {pct(r['handoff'])}",
             f"  satisfaction {pct(sat['rate'])} ({sat['satisfied'] + sat['unsatisfied']:,} rated); "
             f"latency p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms",
             "  top services: " + ("; ".join(f"{x['title']} {x['answers']:,}" for x in s["top"][:5]) or "—"),
             "  rising this week: " + ("; ".join(f"{x['title']} {x['last_week']}→{x['this_week']}"
                                                   for x in t["rising"][:5]) or "—")]
    open_gaps = [g for g in gaps if g.status == "open"]
    lines.append(f"  knowledge gaps: {len(open_gaps)} open cluster(s)"
                 + (f", largest “{open_gaps[0].label}” ({open_gaps[0].size} questions)" if open_gaps else ""))
    return "\n".join(lines)


def write_report(analytics, gaps: list[GapCluster], period: Period, output: Path) -> str:
    """Writes the HTML file; returns the text summary."""
    figures = analytics.figures(period)
    output.write_text(render_html(figures, gaps), encoding="utf-8")
    return summary(figures, gaps)
