"use strict";
// The knowledge-base editor: a field-by-field form for a guide, the review queue with a highlighted diff,
// a preview of how the bot answers the guide's FAQ, history/rollback, the alias dictionary, the safety
// policy's topics and the calibration in use. Everything the server sends is put on the page as text (DOM APIs, no innerHTML).

const $ = (id) => document.getElementById(id);
const STATUS = {published: "已发布", draft: "草稿", in_review: "待审核", archived: "已归档"};
const DECISION = {answer: "直接回答", clarify: "请市民选择", handoff: "转人工", dialogue: "对话"};
const KIND = {alias: "别名", typo: "错别字"};
const FIELD = {code: "事项编码", title: "事项名称", department: "实施部门", region: "适用地区", theme: "主题分类",
  target_group: "服务对象", conditions: "办理条件", materials: "申请材料", steps: "办理流程", fee: "收费标准",
  benefit: "待遇标准", time_limit: "办结时限", location: "办理地点", office_hours: "办公时间", phone: "咨询电话", online: "网上办理",
  legal_basis: "设定依据", keywords: "关键词", faqs: "常见问题", valid_from: "有效期起", valid_to: "有效期止"};

let me = {name: "", role: ""};
let current = null;   // the guide opened (as the API sent it), null for a new one
let dirty = false;    // the form differs from what was loaded or saved

// ---- building DOM ---------------------------------------------------------------------------------
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "data") Object.assign(node.dataset, value);
    else node[key] = value;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}
const clear = (node) => { node.replaceChildren(); return node; };

// ---- talking to the API ---------------------------------------------------------------------------
// The session cookie signs the page's calls in; unsafe methods also send the CSRF token from its cookie.
const csrfToken = () => document.cookie.split("; ").find((c) => c.startsWith("govbot_csrf="))?.slice(12) ?? "";
const signIn = () => location.replace("/login?next=" + encodeURIComponent(location.pathname));

async function call(url, opts = {}) {
  const resp = await fetch(url, {...opts, headers: {"X-CSRF-Token": csrfToken(),
    "Content-Type": "application/json", ...(opts.headers || {})}});
  if (resp.status === 401) signIn();
  const body = resp.headers.get("content-type")?.includes("json") ? await resp.json() : await resp.text();
  if (!resp.ok) throw Object.assign(typeof body === "object" && body ? body : {detail: body}, {status: resp.status});
  return body;
}
const api = (path, opts) => call("/api/v1/kb" + path, opts);
const when = (iso) => new Date(iso).toLocaleString("zh-CN", {hour12: false, year: "numeric", month: "2-digit",
  day: "2-digit", hour: "2-digit", minute: "2-digit"});  // the operator's local time, not UTC
const zh = (reason) => String(reason).split(" / ")[0];  // the Chinese half of "中文 / English"

function explain(e) {
  const d = e.detail ?? e;
  if (d && d.errors) return (zh(d.message || "")) + "\n" + d.errors.map((x) => `• ${fieldLabel(x.field)}：${zh(x.reason)}`).join("\n");
  if (d && d.message) return zh(d.message);
  if (e instanceof Error) return "无法连接服务器：" + e.message;
  return typeof d === "string" ? zh(d) : JSON.stringify(d);
}
function say(target, text, ok) { const node = $(target); node.className = ok ? "ok" : "err"; node.textContent = text; }

function fieldLabel(path) {
  const [head, index, sub] = String(path).split(".");
  const names = {name: "材料名称", form: "形式", count: "份数", notes: "备注", question: "问题", answer: "答案",
    similar_questions: "相似问法", legal: "法定时限", promised: "承诺时限", url: "网址", mini_program_path: "小程序路径"};
  if (index === undefined) return FIELD[head] || head;
  if (!/^\d+$/.test(index)) return `${FIELD[head] || head}·${names[index] || index}`;
  return `${FIELD[head] || head}第${Number(index) + 1}项${sub ? "·" + (names[sub] || sub) : ""}`;
}

// ---- the guide form -------------------------------------------------------------------------------
const form = $("guide");
const LISTS = {conditions: "办理条件", steps: "步骤", legal_basis: "依据"};

function input(field, value, props = {}) {
  return el("input", {value: value ?? "", data: {field}, oninput: () => { dirty = true; }, ...props});
}
const errorSlot = (field) => el("small", {class: "error", data: {error: field}});
const removeButton = (what, index) => el("button", {type: "button", class: "remove", title: "删除这一行",
  textContent: "删除", onclick: () => { const doc = collect(true); doc[what].splice(index, 1); dirty = true; render(doc); }});

function renderList(name, items) {
  const ol = clear(form.querySelector(`[data-list="${name}"]`));
  items.forEach((text, i) => ol.append(el("li", {}, input(`${name}.${i}`, text, {placeholder: LISTS[name]}),
    removeButton(name, i), errorSlot(`${name}.${i}`))));
}

function renderMaterials(materials) {
  const body = clear($("materials"));
  materials.forEach((m, i) => body.append(el("tr", {},
    el("td", {class: "num", textContent: String(i + 1)}),
    el("td", {}, input(`materials.${i}.name`, m.name, {placeholder: "如：居民身份证"}), errorSlot(`materials.${i}.name`)),
    el("td", {}, input(`materials.${i}.form`, m.form), errorSlot(`materials.${i}.form`)),
    el("td", {class: "count"}, input(`materials.${i}.count`, m.count, {type: "number", min: 0}), errorSlot(`materials.${i}.count`)),
    el("td", {}, input(`materials.${i}.notes`, m.notes), errorSlot(`materials.${i}.notes`)),
    el("td", {}, removeButton("materials", i)))));
  body.querySelectorAll('[data-field$=".form"]').forEach((node) => node.setAttribute("list", "material-forms"));
}

function renderFaqs(faqs) {
  const box = clear($("faqs"));
  faqs.forEach((f, i) => box.append(el("div", {class: "faq"},
    el("div", {class: "faq-head"}, el("b", {textContent: `问题 ${i + 1}`}), removeButton("faqs", i)),
    el("label", {}, "市民的问法", input(`faqs.${i}.question`, f.question), errorSlot(`faqs.${i}.question`)),
    el("label", {}, "相似问法（每行一个）", el("textarea", {rows: 3, value: (f.similar_questions || []).join("\n"),
      data: {field: `faqs.${i}.similar_questions`}, oninput: () => { dirty = true; }}), errorSlot(`faqs.${i}.similar_questions`)),
    el("label", {}, "答案", el("textarea", {rows: 3, value: f.answer ?? "", data: {field: `faqs.${i}.answer`},
      oninput: () => { dirty = true; }}), errorSlot(`faqs.${i}.answer`)))));
}

function render(doc) {
  form.hidden = false;
  for (const node of form.querySelectorAll("[data-field]")) {
    const path = node.dataset.field;
    if (/\.\d+/.test(path)) continue;  // rows are rendered below
    const value = path.split(".").reduce((v, k) => (v ?? {})[k], doc);
    node.value = path === "keywords" ? (value || []).join("、") : value ?? "";
  }
  form.querySelector('[data-field="code"]').readOnly = !!current;
  Object.keys(LISTS).forEach((name) => renderList(name, doc[name] || []));
  renderMaterials(doc.materials || []);
  renderFaqs(doc.faqs || []);
  showErrors([]);
}

const value = (field) => form.querySelector(`[data-field="${field}"]`)?.value.trim() ?? "";
const rowsOf = (name) => [...form.querySelectorAll(`[data-field^="${name}."]`)].map((n) => n.value.trim());

// The form as a guide document; blank rows are left out of what is saved, kept while editing rows.
function collect(keepBlank = false) {
  const count = (v) => (v === "" ? 1 : /^\d+$/.test(v) ? Number(v) : v);
  const kept = (rows, filled) => (keepBlank ? rows : rows.filter(filled));
  const materials = [...$("materials").rows].map((tr, i) => ({name: value(`materials.${i}.name`),
    form: value(`materials.${i}.form`) || "原件", count: count(value(`materials.${i}.count`)), notes: value(`materials.${i}.notes`)}));
  const faqs = [...$("faqs").children].map((div, i) => ({question: value(`faqs.${i}.question`),
    similar_questions: value(`faqs.${i}.similar_questions`).split("\n").map((s) => s.trim()).filter(Boolean),
    answer: value(`faqs.${i}.answer`)}));
  return {code: value("code"), title: value("title"), department: value("department"), region: value("region"),
    theme: value("theme"), target_group: value("target_group"),
    conditions: kept(rowsOf("conditions"), Boolean), steps: kept(rowsOf("steps"), Boolean),
    legal_basis: kept(rowsOf("legal_basis"), Boolean),
    materials: kept(materials, (m) => m.name || m.notes), fee: value("fee"),
    benefit: value("benefit"), time_limit: {legal: value("time_limit.legal"), promised: value("time_limit.promised")},
    location: value("location"), office_hours: value("office_hours"), phone: value("phone"),
    online: {url: value("online.url"), mini_program_path: value("online.mini_program_path")},
    keywords: value("keywords").split(/[、,，;；\s]+/).filter(Boolean),
    faqs: kept(faqs, (f) => f.question || f.answer || f.similar_questions.length),
    valid_from: value("valid_from") || null, valid_to: value("valid_to") || null};
}

// The API's 422 names each field ("materials.0.name"); its message goes under that field, in Chinese.
function showErrors(errors) {
  form.querySelectorAll(".invalid").forEach((n) => n.classList.remove("invalid"));
  form.querySelectorAll("[data-error]").forEach((n) => { n.textContent = ""; });
  const unplaced = [];
  for (const {field, reason} of errors) {
    let path = field, slot = null;
    while (path && !(slot = form.querySelector(`[data-error="${path}"]`))) path = path.split(".").slice(0, -1).join(".");
    if (!slot) { unplaced.push(`${fieldLabel(field)}：${zh(reason)}`); continue; }
    slot.textContent = zh(reason);
    form.querySelector(`[data-field="${path}"]`)?.classList.add("invalid");
  }
  if (errors.length) {
    say("msg", `有 ${errors.length} 处需要修改，见标红的栏目。` + (unplaced.length ? "\n" + unplaced.join("\n") : ""));
    form.querySelector(".invalid")?.scrollIntoView({block: "center"});
  }
}

function describe(g) {
  return `${g.code} · ${STATUS[g.status] || g.status} · 线上版本 ${g.live_version ? "v" + g.live_version : "无"} · ` +
    `${g.updated_by} 于 ${when(g.updated_at)} 修改` + (g.review_comment ? ` · 审核意见：${g.review_comment}` : "");
}

async function openGuide(code) {
  try {
    current = await api("/guides/" + encodeURIComponent(code));
    dirty = false;
    $("meta").textContent = describe(current);
    say("msg", "", true);
    render(current.draft);
    $("preview-pane").hidden = $("versions-pane").hidden = true;
    markSelected();
  } catch (e) { say("msg", explain(e)); }
}

async function save(event) {
  event.preventDefault();
  const doc = collect();
  render(doc);  // the rows as sent: error paths point at them
  try {
    current = current
      ? await api("/guides/" + current.code, {method: "PUT", body: JSON.stringify(doc), headers: {"If-Match": `"${current.revision}"`}})
      : await api("/guides", {method: "POST", body: JSON.stringify(doc)});
    dirty = false;
    $("meta").textContent = describe(current);
    render(current.draft);
    say("msg", "草稿已保存", true);
    loadList();
  } catch (e) {
    if (e.status === 422 && e.detail?.errors) return showErrors(e.detail.errors);
    if (e.status === 409 && e.detail?.differing_fields) {
      const fields = e.detail.differing_fields.map((f) => FIELD[f] || f).join("、");
      return say("msg", explain(e) + (fields ? `\n与你的修改不同的栏目：${fields}。请复制你的修改，重新打开后再保存。` : ""));
    }
    say("msg", explain(e));
  }
}

async function act(path, body) {
  const opts = {method: "POST", headers: {"If-Match": `"${current.revision}"`}};
  if (body) opts.body = JSON.stringify(body);
  current = await api(`/guides/${current.code}${path}`, opts);
  return current;
}

async function submitForReview() {
  if (!current) return say("msg", "请先保存草稿。");
  if (dirty) return say("msg", "有未保存的修改，请先保存草稿再提交审核。");
  try { await act("/submit"); say("msg", "已提交审核，等待审核员发布。", true); $("meta").textContent = describe(current); refresh(); }
  catch (e) { say("msg", explain(e)); }
}

async function archive() {
  if (!current || !confirm(`归档后市民将查不到“${current.title}”，确定归档？`)) return;
  try { await act("/archive"); say("msg", "已归档。", true); $("meta").textContent = describe(current); refresh(); }
  catch (e) { say("msg", explain(e)); }
}

function newGuide() {
  current = null;
  dirty = false;
  $("meta").textContent = "新事项：填写后保存草稿。事项编码保存后不能修改。";
  say("msg", "", true);
  render({code: "", title: "", region: "本市", materials: [{name: "", form: "原件", count: 1, notes: ""}],
    faqs: [{question: "", similar_questions: [], answer: ""}]});
  markSelected();
}

function addRow(what) {
  const doc = collect(true);
  const blank = {materials: {name: "", form: "原件", count: 1, notes: ""}, faqs: {question: "", similar_questions: [], answer: ""}};
  doc[what].push(blank[what] ?? "");
  dirty = true;
  render(doc);
  form.querySelector(`[data-field^="${what}.${doc[what].length - 1}"]`)?.focus();
}

// ---- the guide list -------------------------------------------------------------------------------
function listItem(g, onclick, note) {
  return el("div", {class: "item", data: {code: g.code}, onclick},
    el("div", {class: "item-top"}, el("span", {class: "code", textContent: g.code}),
      el("span", {class: `status ${g.status}`, textContent: STATUS[g.status] || g.status})),
    el("div", {class: "item-title", textContent: g.title}), note ? el("div", {class: "note", textContent: note}) : null);
}
function markSelected() {
  document.querySelectorAll("#list .item").forEach((n) => n.classList.toggle("on", n.dataset.code === current?.code));
}
async function loadList() {
  try {
    const items = await api(`/guides?limit=1000&q=${encodeURIComponent($("q").value.trim())}&status=${$("status-filter").value}`);
    clear($("list")).append(...items.map((g) => listItem(g, () => openGuide(g.code))));
    if (!items.length) $("list").append(el("p", {class: "hint", textContent: "没有符合条件的事项。"}));
    markSelected();
  } catch (e) { say("msg", explain(e)); }
}

// ---- diff: line level, then word level inside a changed line ---------------------------------------
function readable(doc) {
  if (!doc) return [];
  const lines = [];
  const add = (label, text) => { if (text) lines.push(`${label}：${text}`); };
  for (const f of ["title", "department", "region", "theme", "target_group"]) add(FIELD[f], doc[f]);
  (doc.conditions || []).forEach((c, i) => add(`办理条件 ${i + 1}`, c));
  (doc.materials || []).forEach((m, i) => add(`申请材料 ${i + 1}`, `${m.name}（${m.form}，${m.count} 份）${m.notes ? "，" + m.notes : ""}`));
  (doc.steps || []).forEach((s, i) => add(`办理流程 ${i + 1}`, s));
  add("收费标准", doc.fee);
  add("待遇标准", doc.benefit);
  add("法定办结时限", doc.time_limit?.legal);
  add("承诺办结时限", doc.time_limit?.promised);
  for (const f of ["location", "office_hours", "phone"]) add(FIELD[f], doc[f]);
  add("网上办理入口", doc.online?.url);
  add("小程序路径", doc.online?.mini_program_path);
  (doc.legal_basis || []).forEach((b, i) => add(`设定依据 ${i + 1}`, b));
  add("关键词", (doc.keywords || []).join("、"));
  (doc.faqs || []).forEach((f, i) => {
    add(`常见问题 ${i + 1}`, f.question);
    add(`常见问题 ${i + 1} 相似问法`, (f.similar_questions || []).join("；"));
    add(`常见问题 ${i + 1} 答案`, f.answer);
  });
  add("有效期", doc.valid_from || doc.valid_to ? `${doc.valid_from || "不限"} 至 ${doc.valid_to || "不限"}` : "");
  return lines;
}

function lcs(a, b) {  // the edit script between two sequences: [["=", x] | ["-", x] | ["+", x]]
  const n = a.length, m = b.length, t = Array.from({length: n + 1}, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
    t[i][j] = a[i] === b[j] ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
  const out = [];
  let i = 0, j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) { out.push(["=", a[i]]); i++; j++; }
    else if (t[i + 1][j] >= t[i][j + 1]) out.push(["-", a[i++]]);
    else out.push(["+", b[j++]]);
  }
  while (i < n) out.push(["-", a[i++]]);
  while (j < m) out.push(["+", b[j++]]);
  return out;
}
const words = (text) => text.match(/[A-Za-z0-9_.@:/-]+|\s+|./gsu) || [];

function wordDiff(before, after) {
  const runs = [];  // consecutive tokens of the same kind make one run: <ins>免冠彩色</ins>, not four
  for (const [op, token] of lcs(words(before), words(after))) {
    if (runs.length && runs[runs.length - 1][0] === op) runs[runs.length - 1][1] += token;
    else runs.push([op, token]);
  }
  return el("div", {class: "line changed"},
    ...runs.map(([op, text]) => (op === "=" ? text : el(op === "-" ? "del" : "ins", {textContent: text}))));
}

const CONTEXT = 2;  // unchanged lines shown around a change; longer unchanged runs fold away

function sameRun(box, lines, afterChange, beforeChange) {
  const show = (text) => el("div", {class: "line same", textContent: text});
  const head = afterChange ? CONTEXT : 0, tail = beforeChange ? CONTEXT : 0;
  if (lines.length <= head + tail + 1) return box.append(...lines.map(show));
  const hidden = lines.slice(head, lines.length - tail);
  const fold = el("button", {type: "button", class: "fold", textContent: `… ${hidden.length} 行未改动（展开）`,
    onclick: () => fold.replaceWith(...hidden.map(show))});
  box.append(...lines.slice(0, head).map(show), fold, ...lines.slice(lines.length - tail).map(show));
}

function renderDiff(target, before, after) {
  const box = clear(target);
  const script = lcs(readable(before), readable(after));
  let changes = 0;
  for (let k = 0; k < script.length;) {
    if (script[k][0] === "=") {
      const start = k;
      while (k < script.length && script[k][0] === "=") k++;
      sameRun(box, script.slice(start, k).map(([, text]) => text), start > 0, k < script.length);
      continue;
    }
    const removed = [], added = [];
    while (k < script.length && script[k][0] !== "=") (script[k][0] === "-" ? removed : added).push(script[k++][1]);
    changes += Math.max(removed.length, added.length);
    const pairs = Math.min(removed.length, added.length);
    for (let p = 0; p < pairs; p++) box.append(wordDiff(removed[p], added[p]));
    removed.slice(pairs).forEach((t) => box.append(el("div", {class: "line removed"}, el("del", {textContent: t}))));
    added.slice(pairs).forEach((t) => box.append(el("div", {class: "line added"}, el("ins", {textContent: t}))));
  }
  if (!changes) box.prepend(el("p", {class: "hint", textContent: "与线上版本没有差异。"}));
  return changes;
}

// ---- the review queue -----------------------------------------------------------------------------
let reviewing = null;
const mine = (g) => [g.edited_by, g.submitted_by].includes(me.name);

async function loadQueue() {
  try {
    const items = await api("/guides?status=in_review&limit=1000");
    const waiting = items.filter((g) => !mine(g));
    $("review-count").textContent = isReviewer() && waiting.length ? String(waiting.length) : "";
    clear($("queue")).append(...items.map((g) => listItem(g, () => openReview(g.code),
      mine(g) ? "你编辑或提交的，须由另一位审核员发布" : `${g.submitted_by || g.updated_by} 提交`)));
    if (!items.length) $("queue").append(el("p", {class: "hint", textContent: "没有等待审核的事项。"}));
    document.querySelectorAll("#queue .item").forEach((n) => n.classList.toggle("on", n.dataset.code === reviewing?.code));
  } catch (e) { say("review-msg", explain(e)); }
}

async function openReview(code) {
  try {
    reviewing = await api("/guides/" + encodeURIComponent(code));
    const live = reviewing.live_version ? await api(`/guides/${code}/versions/${reviewing.live_version}`) : null;
    $("review-meta").textContent = describe(reviewing) + (live ? "" : " · 新事项（尚无线上版本）");
    say("review-msg", "", true);
    $("review-body").hidden = false;
    $("approve").disabled = $("reject").disabled = !isReviewer();
    renderDiff($("diff"), live, reviewing.draft);
    document.querySelectorAll("#queue .item").forEach((n) => n.classList.toggle("on", n.dataset.code === code));
  } catch (e) { say("review-msg", explain(e)); }
}

async function decide(path, body) {
  try {
    const opts = {method: "POST", headers: {"If-Match": `"${reviewing.revision}"`}};
    if (body) opts.body = JSON.stringify(body);
    reviewing = await api(`/guides/${reviewing.code}${path}`, opts);
    say("review-msg", path === "/approve" ? `已发布 v${reviewing.live_version}，市民约一秒后即可查到。` : "已驳回，编辑可修改后再提交。", true);
    $("review-meta").textContent = describe(reviewing);
    $("review-body").hidden = true;
    refresh();
  } catch (e) { say("review-msg", explain(e)); }
}

// ---- preview: how the bot answers this guide's FAQ ------------------------------------------------
async function preview() {
  const doc = collect();
  const questions = doc.faqs.flatMap((f) => [f.question, ...f.similar_questions]).filter(Boolean);
  const rows = clear($("preview-rows"));
  $("preview-pane").hidden = false;
  if (!questions.length) return rows.append(el("tr", {}, el("td", {colSpan: 3, textContent: "本事项还没有常见问题。"})));
  let right = 0;
  for (const q of questions) {
    try {
      const r = await api("/search?q=" + encodeURIComponent(q));
      const first = r.matches[0];
      const wins = first && first.code === doc.code;
      if (wins && r.decision === "answer") right++;
      rows.append(el("tr", {class: wins ? "" : "warn"},
        el("td", {textContent: q}),
        el("td", {}, el("span", {class: `decision ${r.decision}`, textContent: DECISION[r.decision] || r.decision})),
        el("td", {}, ...r.matches.slice(0, 3).map((m, i) => el("div", {class: m.code === doc.code ? "self" : ""},
          `${i + 1}. ${m.title}（${m.code}）${m.score.toFixed(2)}`)),
          wins ? null : el("div", {class: "flag", textContent: first ? `另一事项胜出：${first.title}` : "没有找到任何事项"}))));
    } catch (e) { rows.append(el("tr", {class: "warn"}, el("td", {textContent: q}), el("td", {colSpan: 2, textContent: explain(e)}))); }
  }
  rows.prepend(el("tr", {class: "summary"}, el("td", {colSpan: 3,
    textContent: `${questions.length} 个问法中，${right} 个会直接答成本事项。`})));
  $("preview-pane").scrollIntoView({block: "start"});
}

// ---- history and rollback -------------------------------------------------------------------------
async function history() {
  if (!current) return;
  try {
    const versions = await api(`/guides/${current.code}/versions`);
    const box = clear($("versions"));
    $("versions-pane").hidden = false;
    if (!versions.length) box.append(el("p", {class: "hint", textContent: "尚未发布过。"}));
    for (const v of versions.reverse()) {
      const diffBox = el("div", {class: "diff", hidden: true});
      const row = el("div", {class: "version"},
        el("span", {textContent: `v${v.version} · ${v.published_by} · ${when(v.published_at)} ${v.note}`}),
        v.version > 1 ? el("button", {type: "button", class: "secondary", textContent: "与上一版对比", onclick: async () => {
          const [a, b] = await Promise.all([api(`/guides/${current.code}/versions/${v.version - 1}`), api(`/guides/${current.code}/versions/${v.version}`)]);
          renderDiff(diffBox, a, b);
          diffBox.hidden = false;
        }}) : null,
        isReviewer() ? el("button", {type: "button", class: "secondary", textContent: "回滚到此版", onclick: async () => {
          if (!confirm(`回滚到 v${v.version}？将以旧内容发布一个新版本。`)) return;
          try { current = await api(`/guides/${current.code}/rollback`, {method: "POST", body: JSON.stringify({version: v.version})});
            say("msg", `已回滚：v${current.live_version} 为 v${v.version} 的内容。`, true); $("meta").textContent = describe(current); history(); }
          catch (e) { say("msg", explain(e)); }
        }}) : null,
        diffBox);
      box.append(row);
    }
  } catch (e) { say("msg", explain(e)); }
}

// ---- the alias dictionary -------------------------------------------------------------------------
let aliases = [];
async function loadAliases() {
  try { aliases = await api("/aliases"); renderAliases(); } catch (e) { say("alias-msg", explain(e)); }
}
function renderAliases() {
  const f = $("alias-filter").value.trim();
  const shown = aliases.filter((a) => !f || a.term.includes(f) || a.canonical.includes(f));
  clear($("alias-rows")).append(...shown.map((a) => el("tr", {},
    el("td", {textContent: a.term}), el("td", {textContent: a.canonical}), el("td", {textContent: KIND[a.kind] || a.kind}),
    el("td", {textContent: a.created_by}), el("td", {textContent: when(a.created_at)}),
    el("td", {}, el("button", {type: "button", class: "remove", textContent: "删除", onclick: () => removeAlias(a.term)})))));
}
async function addAlias(event) {
  event.preventDefault();
  document.querySelectorAll("[data-alias-error]").forEach((n) => { n.textContent = ""; });
  const entry = {term: $("alias-term").value.trim(), canonical: $("alias-canonical").value.trim(), kind: $("alias-kind").value};
  try {
    await api("/aliases", {method: "POST", body: JSON.stringify(entry)});
    say("alias-msg", `已添加：${entry.term} → ${entry.canonical}，约一秒后生效。`, true);
    $("alias-term").value = $("alias-canonical").value = "";
    loadAliases();
  } catch (e) {
    if (e.status === 422 && e.detail?.errors) {
      for (const x of e.detail.errors) {
        const slot = document.querySelector(`[data-alias-error="${x.field}"]`) || document.querySelector('[data-alias-error="term"]');
        slot.textContent = zh(x.reason);
      }
      return say("alias-msg", "请按提示修改后再添加。");
    }
    say("alias-msg", explain(e));
  }
}
async function removeAlias(term) {
  if (!confirm(`从词典中删除“${term}”？`)) return;
  try { await api("/aliases/" + encodeURIComponent(term), {method: "DELETE"}); say("alias-msg", `已删除：${term}`, true); loadAliases(); }
  catch (e) { say("alias-msg", explain(e)); }
}

// ---- the safety policy ----------------------------------------------------------------------------
const SAFETY_FIELD = {title: "名称", priority: "优先级", keywords: "关键词", exceptions: "例外说法", examples: "典型说法",
  response: "回复正文", lines: "热线", related: "相关事项", name: "名称", number: "号码", note: "说明", code: "事项编码", when: "触发词"};
let topics = [], topic = null;
const lines = (id) => $(id).value.split("\n").map((x) => x.trim()).filter(Boolean);
async function loadSafety() {
  try { topics = await api("/safety-topics"); } catch (e) { return say("safety-msg", explain(e)); }
  clear($("safety-rows")).append(...topics.map((t) => el("tr", {onclick: () => openTopic(t), class: "clickable"},
    el("td", {textContent: `${t.title}（${t.key}）`}), el("td", {textContent: t.priority}), el("td", {textContent: t.handoff ? "是" : "否"}),
    el("td", {textContent: t.lines.map((l) => l.number).join("、")}), el("td", {textContent: t.enabled ? "启用" : "停用"}),
    el("td", {textContent: t.updated_by}), el("td", {textContent: when(t.updated_at)}))));
}
function openTopic(t) {
  topic = t;
  $("safety-form").hidden = false;
  $("safety-heading").textContent = `${t.title}（${t.key}）`;
  $("sf-title").value = t.title; $("sf-enabled").checked = t.enabled; $("sf-handoff").checked = t.handoff;
  $("sf-priority").value = t.priority; $("sf-response").value = t.response;
  for (const f of ["keywords", "exceptions", "examples"]) $("sf-" + f).value = t[f].join("\n");
  $("sf-lines").value = t.lines.map((l) => [l.name, l.number, l.note].filter(Boolean).join(" ")).join("\n");
  $("sf-related").value = t.related.map((r) => `${r.code}：${r.when.join("、")}`).join("\n");
  say("safety-msg", "", true);
}
async function saveTopic(event) {
  event.preventDefault();
  const doc = {key: topic.key, title: $("sf-title").value.trim(), enabled: $("sf-enabled").checked, handoff: $("sf-handoff").checked,
    priority: Number($("sf-priority").value), response: $("sf-response").value.trim(),
    keywords: lines("sf-keywords"), exceptions: lines("sf-exceptions"), examples: lines("sf-examples"),
    lines: lines("sf-lines").map((l) => { const [name, number, ...note] = l.split(/\s+/); return {name, number: number || "", note: note.join(" ")}; }),
    related: lines("sf-related").map((l) => { const [code, words = ""] = l.split(/[：:]/); return {code: code.trim(), when: words.split(/[、,，\s]+/).filter(Boolean)}; })};
  try {
    const saved = await api("/safety-topics/" + encodeURIComponent(topic.key), {method: "PUT", body: JSON.stringify(doc)});
    await loadSafety(); openTopic(saved); say("safety-msg", "已保存，下一条市民消息起按新内容处理。", true);
  } catch (e) {
    const d = e.detail;
    if (d && d.errors) return say("safety-msg", zh(d.message) + "\n" + d.errors.map((x) => {
      const [head, index, sub] = String(x.field).split(".");
      const where = index === undefined ? (SAFETY_FIELD[head] || head) : `${SAFETY_FIELD[head] || head}第${Number(index) + 1}行${sub ? "·" + (SAFETY_FIELD[sub] || sub) : ""}`;
      return `• ${where}：${zh(x.reason)}`; }).join("\n"));
    say("safety-msg", explain(e));
  }
}

// ---- the calibration in use -----------------------------------------------------------------------
const FIGURES = {fitted_at: "拟合时间", answer_rate: "直接回答率", wrong_answers: "答错率", oos_answered: "超范围问题被回答率",
  answer_threshold: "回答阈值", clarify_threshold: "澄清阈值", cases: "用于拟合的问法数", items: "事项数",
  in_scope: "范围内问法数", out_of_scope: "范围外问法数", prior: "先验", seconds: "拟合用时（秒）", dev_cases: "开发集问法数",
  fitted_on: "拟合所用数据", dev_correct_answers: "开发集答对率", dev_wrong_answers: "开发集答错率", dev_oos_answered: "开发集超范围被回答率"};
async function loadCalibration() {
  try {
    const c = await api("/calibration");
    const dl = clear($("calibration"));
    const add = (k, v) => dl.append(el("dt", {textContent: k}), el("dd", {textContent: v}));
    add("使用中", c.calibration === "instance" ? "本实例在线上知识库上的拟合" : "项目自带的校准（样例知识库）");
    add("与线上知识库一致", c.current ? "是" : "否（将自动重新拟合）");
    add("正在拟合", c.fitting ? "是" : "否");
    for (const [k, v] of Object.entries(c.fit || {})) {
      if (typeof v === "object" || k === "fingerprint") continue;
      const shown = typeof v === "number" && v <= 1 && /rate|answers|answered/.test(k) ? `${(v * 100).toFixed(1)}%` : String(v);
      add(FIGURES[k] || k, k === "fitted_at" ? when(v) : shown);
    }
  } catch (e) { clear($("calibration")).append(el("dd", {textContent: explain(e)})); }
}

// ---- the retrieval test box -----------------------------------------------------------------------
async function test() {
  const q = $("tq").value.trim();
  if (!q) return;
  const box = clear($("result"));
  try {
    const r = await api("/search?q=" + encodeURIComponent(q));
    box.append(el("p", {}, "决定：", el("span", {class: `decision ${r.decision}`, textContent: DECISION[r.decision] || r.decision}),
      ` 置信度 ${r.confidence.toFixed(2)}`),
      el("ol", {}, ...r.matches.map((m) => el("li", {textContent: `${m.title}（${m.code}）${m.score.toFixed(2)}`}))));
  } catch (e) { box.append(el("p", {class: "err", textContent: explain(e)})); }
}

// ---- page wiring ----------------------------------------------------------------------------------
const isReviewer = () => ["reviewer", "admin"].includes(me.role);
function showTab(name) {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("on", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("on", t.id === "tab-" + name));
  if (name === "review") loadQueue();
  if (name === "aliases") loadAliases();
  if (name === "safety") loadSafety();
  if (name === "calibration") loadCalibration();
}
function refresh() { loadList(); loadQueue(); }

document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));
form.addEventListener("submit", save);
form.querySelectorAll("[data-add]").forEach((b) => b.addEventListener("click", () => addRow(b.dataset.add)));
form.querySelectorAll("[data-field]").forEach((n) => n.addEventListener("input", () => { dirty = true; }));
$("search").addEventListener("click", loadList);
$("q").addEventListener("keydown", (e) => { if (e.key === "Enter") loadList(); });
$("status-filter").addEventListener("change", loadList);
$("new").addEventListener("click", newGuide);
$("submit").addEventListener("click", submitForReview);
$("archive").addEventListener("click", archive);
$("preview").addEventListener("click", preview);
$("history").addEventListener("click", history);
$("approve").addEventListener("click", () => decide("/approve"));
$("reject").addEventListener("click", () => {
  const comment = $("reject-comment").value.trim();
  if (!comment) return say("review-msg", "驳回时请填写意见，告诉编辑要改什么。");
  decide("/reject", {comment});
});
$("alias-form").addEventListener("submit", addAlias);
$("alias-filter").addEventListener("input", renderAliases);
$("safety-form").addEventListener("submit", saveTopic);
$("test").addEventListener("click", test);
$("tq").addEventListener("keydown", (e) => { if (e.key === "Enter") test(); });
$("signout").addEventListener("click", async () => { await call("/api/v1/auth/logout", {method: "POST"}).catch(() => {}); signIn(); });
window.addEventListener("beforeunload", (e) => { if (dirty) e.preventDefault(); });

call("/api/v1/auth/me").then((who) => {
  me = who;
  document.body.classList.toggle("reviewer", isReviewer());
  $("who").textContent = `${who.name}（${{editor: "编辑", reviewer: "审核员", admin: "管理员"}[who.role] || who.role}）`;
  loadQueue();
}).catch(() => {});
loadList();
