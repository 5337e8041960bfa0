/* The offline report: the figures and gap clusters embedded in the file, drawn with charts.js. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  GovbotCharts.render(document.getElementById("figures"), data.figures);
  GovbotCharts.table(document.getElementById("gaps"), ["问题簇", "次数", "上周→本周", "例句", "状态"],
    data.gaps.map((g) => [g.label, g.size, `${g.last_week} → ${g.this_week}`,
                          g.examples.slice(0, 4).map((e) => `${e.text}（${e.n}）`).join("；"), g.status]));
});
