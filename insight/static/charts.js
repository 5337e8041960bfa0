/* Draws the insight figures (the dashboard and the offline report share this file). Needs Chart.js. */
"use strict";

const GovbotCharts = (() => {
  const DECISION_NAMES = {answer: "直接回答", clarify: "澄清追问", handoff: "未能回答", dialogue: "对话/表单", safety: "安全话题"};
  const CHANNEL_NAMES = {web: "网页", wechat_official: "公众号", wechat_miniprogram: "小程序", rest: "接口"};
  const COLORS = ["#2f6fde", "#f0a030", "#d9534f", "#5cb85c", "#8e6cc9", "#20a4b8", "#c9a227", "#7f8c8d"];
  const charts = [];

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  const pct = (v) => (v === null || v === undefined ? "—" : (v * 100).toFixed(1) + "%");
  const ms = (v) => (v === null || v === undefined ? "—" : v + " ms");

  function card(title, wide) {
    const body = el("div", {class: "card-body"});
    const node = el("section", {class: wide ? "card wide" : "card"}, el("h2", {}, title), body);
    return [node, body];
  }

  function chart(parent, type, labels, datasets, horizontal) {
    const canvas = el("canvas");
    parent.append(el("div", {class: "chart"}, canvas));
    charts.push(new Chart(canvas, {
      type,
      data: {labels, datasets: datasets.map((d, i) => ({
        backgroundColor: type === "doughnut" ? COLORS : COLORS[i % COLORS.length],
        borderColor: COLORS[i % COLORS.length], ...d}))},
      options: {animation: false, responsive: true, maintainAspectRatio: false,
                indexAxis: horizontal ? "y" : "x",
                plugins: {legend: {display: type === "doughnut" || datasets.length > 1}}},
    }));
  }

  function table(parent, headers, rows) {
    const head = el("tr", {}, ...headers.map((h) => el("th", {}, h)));
    const body = rows.length ? rows.map((r) => el("tr", {}, ...r.map((c) => el("td", {}, c))))
                             : [el("tr", {}, el("td", {colspan: headers.length}, "（暂无数据）"))];
    parent.append(el("table", {}, el("thead", {}, head), el("tbody", {}, ...body)));
  }

  function kpis(o) {
    const items = [["咨询量", o.questions], ["回复数", o.replies], ["直接回答率", pct(o.rates.answer)],
                   ["澄清率", pct(o.rates.clarify)], ["未能回答率", pct(o.rates.unanswered)],
                   ["转人工率", pct(o.rates.handoff)], ["满意度", pct(o.satisfaction.rate)],
                   ["响应时间中位数", ms(o.latency.p50_ms)], ["响应时间 P95", ms(o.latency.p95_ms)]];
    return el("div", {class: "kpis"}, ...items.map(([k, v]) =>
      el("div", {class: "kpi"}, el("div", {class: "kpi-value"}, v), el("div", {class: "kpi-name"}, k))));
  }

  function grouped(parent, title, sums) {
    const [node, body] = card(title);
    chart(body, "bar", Object.keys(sums), [{label: "回答数", data: Object.values(sums)}], true);
    parent.append(node);
  }

  function render(root, f) {
    while (charts.length) charts.pop().destroy();
    root.replaceChildren();
    const o = f.overview, s = f.services;
    root.append(el("p", {class: "period"}, `统计区间：${o.period.from} 至 ${o.period.to}（北京时间）`), kpis(o));
    const grid = el("div", {class: "grid"});
    root.append(grid);

    let [node, body] = card("每日咨询量", true);
    chart(body, "line", o.by_day.map((d) => d.day), [{label: "咨询量", data: o.by_day.map((d) => d.questions)}]);
    grid.append(node);
    [node, body] = card("分时段咨询量");
    chart(body, "bar", o.by_hour.map((_, h) => `${h}时`), [{label: "咨询量", data: o.by_hour}]);
    grid.append(node);
    [node, body] = card("渠道分布");
    chart(body, "doughnut", Object.keys(o.by_channel).map((c) => CHANNEL_NAMES[c] || c),
          [{label: "咨询量", data: Object.values(o.by_channel)}]);
    grid.append(node);
    [node, body] = card("回复结果");
    chart(body, "doughnut", Object.keys(o.decisions).map((d) => DECISION_NAMES[d] || d),
          [{label: "回复数", data: Object.values(o.decisions)}]);
    grid.append(node);
    [node, body] = card("满意度评价");
    chart(body, "doughnut", ["满意", "不满意"],
          [{label: "评价数", data: [o.satisfaction.satisfied, o.satisfaction.unsatisfied]}]);
    grid.append(node);
    [node, body] = card("热点事项（按回答数）", true);
    chart(body, "bar", s.top.map((t) => t.title), [{label: "回答数", data: s.top.map((t) => t.answers)}], true);
    grid.append(node);
    grouped(grid, "按部门", s.by_department);
    grouped(grid, "按主题", s.by_theme);
    grouped(grid, "按区域", s.by_region);
    [node, body] = card("热门问题", true);
    table(body, ["问题", "次数"], f.questions.top.map((q) => [q.question, q.count]));
    grid.append(node);
    [node, body] = card(`上升趋势（截至 ${f.trends.week_ending} 的一周对比前一周）`, true);
    table(body, ["事项", "主题", "上周", "本周", "增长"], f.trends.rising.map((r) =>
      [`${r.title}（${r.code}）`, r.theme, r.last_week, r.this_week, "+" + (r.growth * 100).toFixed(0) + "%"]));
    grid.append(node);
  }

  return {render, el, table};
})();
