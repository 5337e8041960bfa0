/* The agent console: live queue (WebSocket) with SLA timers, claim, transcript with the bot's decisions,
   replies through the citizen's channel, canned replies, KB answers, notes, close, turn into knowledge. */
"use strict";

const $ = (id) => document.getElementById(id);
const csrfToken = () => document.cookie.split("; ").find((c) => c.startsWith("govbot_csrf="))?.slice(12) ?? "";
const STATUS = {new: "待接", assigned: "处理中", waiting: "待市民回复", resolved: "已解决", closed: "已关闭"};
const PRIORITY = {urgent: "紧急", high: "高", normal: "普通", low: "低"};
const REASON = {asked: "市民要求", not_understood: "两次未理解", unsatisfied: "两次不满意", complaint: "投诉",
  suggestion: "建议", sensitive: "敏感话题", agent: "坐席接管"};
let me = null;
let current = null;

function say(text) {
  $("msg").textContent = text;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { $("msg").textContent = ""; }, 6000);
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

async function api(method, path, body) {
  const opts = {method, credentials: "same-origin", headers: {"X-CSRF-Token": csrfToken()}};
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const resp = await fetch(path, opts);
  if (resp.status === 401) { location.replace("/login?next=/console"); throw new Error("unauthenticated"); }
  const data = resp.status === 204 ? {} : await resp.json();
  if (!resp.ok) {
    const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail);
    say(detail);
    throw new Error(detail);
  }
  return data;
}

function slaText(due) {
  if (!due) return "";
  const left = Math.round((new Date(due) - Date.now()) / 1000);
  const abs = Math.abs(left);
  const text = `${Math.floor(abs / 60)}:${String(abs % 60).padStart(2, "0")}`;
  return left >= 0 ? `SLA ${text}` : `超时 ${text}`;
}

function tickSla() {
  for (const node of document.querySelectorAll(".sla[data-due]")) {
    node.textContent = slaText(node.dataset.due);
    node.classList.toggle("late", new Date(node.dataset.due) < Date.now());
  }
}

async function loadSummary() {
  const data = await api("GET", "/api/v1/handoff/summary");
  me = data.me;
  $("who").textContent = `已登录：${me.name}（${me.role}）`;
  const c = data.counts;
  $("counts").textContent = `待接 ${c.new} · 处理中 ${c.assigned + c.waiting} · 超时 ${c.overdue} · 在线坐席 ${c.agents_online}` +
    (data.open_now ? "" : ` · 非工作时间（${data.hours}）`);
  if ($("canned").options.length === 1) {
    for (const text of data.canned_replies) $("canned").append(el("option", {value: text}, text));
    for (const cat of data.categories) $("category").append(el("option", {value: cat}, cat));
  }
}

async function loadQueue() {
  const tickets = await api("GET", "/api/v1/tickets" + ($("mine").checked ? "?mine=true" : ""));
  $("queue").replaceChildren(...tickets.map((t) => {
    const row = el("li", {class: "ticket" + (current === t.id ? " selected" : ""), "data-id": String(t.id)},
      el("b", {}, `#${t.id}`), el("span", {class: "prio-" + t.priority}, PRIORITY[t.priority] || t.priority),
      el("span", {}, t.category), el("span", {class: "sender"}, t.sender_id), el("span", {}, STATUS[t.status]),
      t.assignee ? el("span", {}, `→ ${t.assignee}`) : null,
      t.status === "new" ? el("span", {class: "sla", "data-due": t.sla_due_at || ""}, slaText(t.sla_due_at)) : null);
    row.onclick = () => loadTicket(t.id);
    return row;
  }));
  const live = await api("GET", "/api/v1/handoff/conversations");
  $("live").replaceChildren(...live.map((c) => {
    const take = el("button", {type: "button"}, "接管");
    take.onclick = async () => { const t = await api("POST", `/api/v1/handoff/conversations/${encodeURIComponent(c.sender_id)}/takeover`); await refresh(); await loadTicket(t.id); };
    return el("li", {}, el("span", {}, `${c.sender_id}（${c.channel}）`), take);
  }));
  await loadSummary();
}

function line(item) {
  const who = {citizen: "市民", bot: "机器人", agent: `客服 ${item.agent || ""}`, system: "系统", note: `备注 ${item.agent || ""}`}[item.author] || item.author;
  const node = el("li", {class: item.author + (item.delivery === "failed" ? " failed" : "")}, el("b", {}, who + "："), item.text);
  if (item.decision) {
    const matched = (item.matches || []).map((m) => `${m.title}（${m.code} ${Number(m.score).toFixed(2)}）`).join("、");
    node.append(el("div", {class: "decision"}, `判断：${item.decision}${matched ? " · 匹配：" + matched : ""}`));
  }
  if (item.delivery === "failed") node.append(el("div", {class: "decision"}, `未送达：${item.error}`));
  else if (item.author === "agent" && item.delivery) node.append(el("div", {class: "decision"}, `已送达（${item.delivery === "wechat" ? "微信客服消息" : "网页实时"}）`));
  return node;
}

async function loadTicket(id) {
  const t = await api("GET", `/api/v1/tickets/${id}`);
  current = t.id;
  $("detail").classList.remove("hidden");
  for (const row of document.querySelectorAll(".ticket")) row.classList.toggle("selected", row.dataset.id === String(id));
  $("meta").replaceChildren(...[el("b", {}, `工单 #${t.id}`), ` ${t.category}${t.topic ? "·" + t.topic : ""} · ${PRIORITY[t.priority]} · ` +
    `${STATUS[t.status]}${t.assignee ? "（" + t.assignee + "）" : ""} · ${REASON[t.reason] || t.reason} · ${t.channel} · ${t.sender_id}` +
    (t.skill_group ? ` · ${t.skill_group}` : "") + (t.callback ? ` · 回电请求${t.contact ? "：" + t.contact : "（未留电话）"}` : "") +
    (t.content ? ` · 内容：${t.content}` : "") + (t.resolution ? ` · 处理结果：${t.resolution}` : "") +
    (t.related_codes.length ? ` · 关联事项：${t.related_codes.join("、")}` : "") + (t.rating ? ` · 市民评价：${t.rating === "satisfied" ? "满意" : "不满意"}` : ""),
    t.status === "new" ? el("span", {class: "sla", "data-due": t.sla_due_at || ""}, slaText(t.sla_due_at)) : null]
    .filter((node) => node !== null));
  $("transcript").replaceChildren(...t.transcript.map(line));
  $("messages").replaceChildren(...t.messages.map(line));
  const mine = t.assignee === me.name;
  $("claim").disabled = t.status !== "new";
  for (const id of ["send", "handback", "transfer", "close"]) $(id).disabled = !mine || !["assigned", "waiting", "resolved"].includes(t.status);
  $("reopen").disabled = !["resolved", "closed"].includes(t.status);
}

async function refresh() { await loadQueue(); if (current) await loadTicket(current); }

function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/handoff/ws`);
  let ping = null;
  ws.onopen = () => { $("live-state").textContent = "实时连接"; $("live-state").className = "on"; ping = setInterval(() => ws.send("ping"), 20000); };
  ws.onmessage = async (event) => {
    const data = JSON.parse(event.data);
    if (data.type === "hello") { await refresh(); return; }
    await loadQueue();
    if (current && data.id === current) await loadTicket(current);
  };
  ws.onclose = () => {
    clearInterval(ping);
    $("live-state").textContent = "已断开，重连中…"; $("live-state").className = "off";
    setTimeout(connect, 2000);
  };
}

$("mine").onchange = loadQueue;
$("next").onclick = async () => {
  try { const t = await api("POST", "/api/v1/tickets/next"); await refresh(); await loadTicket(t.id); } catch (e) { /* said */ }
};
$("offline").onclick = async () => { const r = await api("POST", "/api/v1/handoff/presence", {online: false}); say(`已下线，${r.released.length} 张工单回到队列`); await refresh(); };
$("claim").onclick = async () => { await api("POST", `/api/v1/tickets/${current}/claim`); say("已接单"); await refresh(); };
$("handback").onclick = async () => { await api("POST", `/api/v1/tickets/${current}/handback`); say("已交回机器人"); await refresh(); };
$("reopen").onclick = async () => { await api("POST", `/api/v1/tickets/${current}/reopen`); say("已重开"); await refresh(); };
$("transfer").onclick = async () => {
  const to = $("transfer-to").value.trim();
  if (!to) return;
  const isGroup = !/^[\w.-]+$/.test(to);
  await api("POST", `/api/v1/tickets/${current}/transfer`, isGroup ? {group: to} : {agent: to});
  say("已转派"); $("transfer-to").value = ""; await refresh();
};
$("canned").onchange = () => { if ($("canned").value) $("reply").value = $("canned").value; $("canned").value = ""; };
$("send").onclick = async () => {
  const text = $("reply").value.trim();
  if (!text) return;
  const m = await api("POST", `/api/v1/tickets/${current}/messages`, {text});
  say(m.delivery === "failed" ? `未送达：${m.error}` : "已发送");
  $("reply").value = "";
  await loadTicket(current);
};
$("addnote").onclick = async () => {
  const text = $("reply").value.trim();
  if (!text) return;
  await api("POST", `/api/v1/tickets/${current}/notes`, {text});
  $("reply").value = ""; say("备注已保存"); await loadTicket(current);
};
$("kbsearch").onclick = async () => {
  const q = $("kbq").value.trim();
  if (!q) return;
  const found = await api("GET", `/api/v1/handoff/kb?q=${encodeURIComponent(q)}`);
  $("kbresults").replaceChildren(...found.map((f) => {
    const insert = el("button", {type: "button"}, "插入");
    insert.onclick = () => { $("reply").value = ($("reply").value ? $("reply").value + "\n" : "") + f.text; };
    return el("li", {}, el("b", {}, `${f.title}（${f.code}）`), " ", f.text, " ", insert);
  }));
  if (!found.length) say("知识库里没有找到");
};
$("close").onclick = async () => {
  const resolution = $("resolution").value.trim();
  if (!resolution) { say("请填写处理结果"); return; }
  await api("POST", `/api/v1/tickets/${current}/close`, {resolution, category: $("category").value});
  $("resolution").value = ""; say("已结单，会话已交回机器人"); await refresh();
};
$("knowledge").onclick = async () => {
  const d = await api("POST", `/api/v1/tickets/${current}/knowledge`,
    {question: $("kq").value.trim(), answer: $("ka").value.trim(), code: $("kcode").value.trim()});
  say(`已生成知识草稿 ${d.code}（${d.status === "in_review" ? "待审核" : "草稿"}）：${d.question}`);
  await loadTicket(current);
};
$("signout").onclick = async () => { await api("POST", "/api/v1/auth/logout"); location.replace("/login?next=/console"); };

setInterval(tickSla, 1000);
loadQueue().then(connect);
