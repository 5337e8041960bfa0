/* The insight dashboard: time-range filter, figures (charts.js), CSV export, knowledge gaps. */
"use strict";

const $ = (id) => document.getElementById(id);
const csrfToken = () => document.cookie.split("; ").find((c) => c.startsWith("govbot_csrf="))?.slice(12) ?? "";
const STATUS = {open: "待处理", drafted: "已生成草稿", resolved: "已解决（发布后可回答）"};
const ROLES = {editor: "编辑", reviewer: "审核员", admin: "管理员"};
const signIn = () => location.replace("/login?next=/insight");

class ApiError extends Error {}

function notice(text, link) {
  const box = $("notice");
  box.replaceChildren(text);
  if (link) box.append(" ", GovbotCharts.el("a", {href: link.href}, link.text));
  box.classList.toggle("hidden", !text);
}

async function api(path, body) {
  const opts = {credentials: "same-origin", headers: {"X-CSRF-Token": csrfToken()}};
  if (body !== undefined) {
    opts.method = "POST";
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  if (resp.status === 401) {  // signed out elsewhere or the session expired
    signIn();
    throw new ApiError("unauthenticated");
  }
  if (resp.status === 204) return null;
  const data = await resp.json();
  if (!resp.ok) {
    const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail);
    notice(detail);
    throw new ApiError(detail);
  }
  return data;
}

function range() {
  return new URLSearchParams({from: $("from").value, to: $("to").value}).toString();
}

function setDays(days) {
  const end = new Date();
  const start = new Date(end.getTime() - (days - 1) * 86400000);
  const iso = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 10);
  $("from").value = iso(start);
  $("to").value = iso(end);
}

async function load() {
  if (typeof Chart === "undefined") {
    notice("图表库未加载：请运行 make setup 安装 Chart.js（npm）后刷新页面。");
    return;
  }
  const q = range();
  const [overview, services, questions, trends] = await Promise.all(
    ["overview", "services", "questions", "trends"].map((v) => api(`/api/v1/insight/${v}?${q}`)));
  notice("");
  GovbotCharts.render($("figures"), {overview, services, questions, trends});
  $("export").href = `/api/v1/insight/export.csv?${q}`;
  await loadGaps();
}

function gapActions(g) {
  const cell = GovbotCharts.el("td");
  if (g.status !== "open") {
    cell.append(g.draft_code ? `草稿：${g.draft_code}` : "");
    return cell;
  }
  const actions = [["guide", "新建事项草稿"], ["faq", "补充为常见问题"], ["alias", "补充为别名"]];
  for (const [kind, title] of actions) {
    const button = GovbotCharts.el("button", {type: "button"}, title);
    if (kind !== "guide" && !g.near_code) button.disabled = true;
    button.addEventListener("click", async () => {
      const made = await api(`/api/v1/insight/gaps/${g.id}/draft`, {kind});
      await loadGaps();
      notice(`已生成草稿 ${made.code}（${made.title}），请到编辑页面完善后提交审核。`, {href: "/editor", text: "打开编辑页面"});
    });
    cell.append(button);
  }
  return cell;
}

function renderGaps(gaps) {
  const root = $("gaps");
  root.replaceChildren();
  if (!gaps.length) {
    root.append("暂无聚类结果：点击“重新分析”。");
    return;
  }
  const el = GovbotCharts.el;
  const head = el("tr", {}, ...["问题簇", "次数", "上周→本周", "例句", "最接近的事项", "状态", "操作"].map((h) => el("th", {}, h)));
  const rows = gaps.map((g) => el("tr", {},
    el("td", {}, g.label), el("td", {}, g.size), el("td", {}, `${g.last_week} → ${g.this_week}`),
    el("td", {}, g.examples.slice(0, 4).map((e) => `${e.text}（${e.n}）`).join("；")),
    el("td", {}, g.near_code || "—"), el("td", {class: `status-${g.status}`}, STATUS[g.status] || g.status),
    gapActions(g)));
  root.append(el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows)));
}

async function loadGaps() {
  renderGaps(await api("/api/v1/insight/gaps"));
}

function run(fn) {
  fn().catch((e) => { if (!(e instanceof ApiError)) notice(`出错了：${e.message}`); });
}

async function showAccount() {
  const who = await api("/api/v1/auth/me");
  $("who").textContent = `${who.name}（${ROLES[who.role] || who.role}）`;
}

async function signOut() {
  await api("/api/v1/auth/logout", {}).catch(() => {});
  signIn();
}

document.addEventListener("DOMContentLoaded", () => {
  setDays(30);
  $("signout").addEventListener("click", signOut);
  run(showAccount);
  $("refresh").addEventListener("click", () => run(load));
  for (const b of document.querySelectorAll("button[data-days]")) {
    b.addEventListener("click", () => { setDays(Number(b.dataset.days)); run(load); });
  }
  $("mine").addEventListener("click", () => run(async () => {
    renderGaps(await api("/api/v1/insight/gaps/mine", {from: $("from").value, to: $("to").value}));
  }));
  run(load);
});
