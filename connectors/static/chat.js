// The citizen web chat: the full page at / and, with ?embed=1, the inside of the widget's iframe.
// Every message is rendered as text through DOM APIs (never innerHTML); links are http(s) only.
"use strict";

const log = document.getElementById("log");
const input = document.getElementById("text");
const chips = document.getElementById("chips");
const statusLine = document.getElementById("status-line");
const elderlyToggle = document.getElementById("elderly");
const voiceButton = document.getElementById("voice");
const embedded = new URLSearchParams(location.search).get("embed") === "1";
const BOT_STATUS = "答复依据本市办事指南 · 需要人工请说“转人工”或拨打12345";
const HUMAN_STATUS = "已转人工客服 · 工作人员会在这里回复您";
const GREETING = "您好！我是政务通智能客服。可以问我办事指南、查询办件进度、预约办理。";
const LEAD_CHARS = 60;  // elderly mode: about this much of a long answer first, the rest behind 查看详细

function newSender() {
  const id = "web-" + Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
  localStorage.setItem("govbot_sender", id);
  return id;
}
let sender = localStorage.getItem("govbot_sender") || newSender();

// ---- rendering ---------------------------------------------------------------------------------
const URL_PATTERN = /https?:\/\/[^\s，。；、！？）)」》"'<>]+/g;

function appendWithLinks(parent, text) {
  let last = 0;
  for (const found of text.matchAll(URL_PATTERN)) {
    parent.appendChild(document.createTextNode(text.slice(last, found.index)));
    let url = null;
    try { url = new URL(found[0]); } catch (e) { url = null; }
    if (url && (url.protocol === "http:" || url.protocol === "https:")) {
      const a = document.createElement("a");
      a.href = url.href;
      a.textContent = found[0];
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      parent.appendChild(a);
    } else {
      parent.appendChild(document.createTextNode(found[0]));
    }
    last = found.index + found[0].length;
  }
  parent.appendChild(document.createTextNode(text.slice(last)));
}

// The short part of an answer: its first line (and the next when the first is only the item's name),
// cut at a sentence end near LEAD_CHARS.
function splitLead(text) {
  const lines = text.split("\n");
  let lead = lines[0];
  let used = 1;
  if (/^【[^】]*】$/.test(lead) && lines.length > 1) { lead += "\n" + lines[1]; used = 2; }
  let rest = lines.slice(used).join("\n");
  if (lead.length > LEAD_CHARS) {
    const stop = lead.indexOf("。", LEAD_CHARS / 2);
    if (stop > 0 && stop < lead.length - 1) { rest = lead.slice(stop + 1) + (rest ? "\n" + rest : ""); lead = lead.slice(0, stop + 1); }
  }
  return [lead, rest];
}

function scrollDown() {
  log.lastElementChild && log.lastElementChild.scrollIntoView({block: "end"});
}

function bubble(who, text, label) {
  const row = document.createElement("div");
  row.className = "msg " + who;
  const box = document.createElement("div");
  box.className = "bubble";
  const sr = document.createElement("span");
  sr.className = "visually-hidden";
  sr.textContent = label + "：";
  box.appendChild(sr);
  row.appendChild(box);
  log.appendChild(row);
  return box;
}

function add(who, text, buttons) {
  const label = who === "me" ? "我" : who === "agent" ? "人工客服" : "智能客服";
  const box = bubble(who, text, label);
  const [lead, rest] = who === "me" ? [text, ""] : splitLead(text);
  const leadPart = document.createElement("span");
  leadPart.className = "lead";
  appendWithLinks(leadPart, lead);
  box.appendChild(leadPart);
  if (rest) {
    const restPart = document.createElement("span");
    restPart.className = "rest";
    restPart.id = "rest-" + log.childElementCount;
    appendWithLinks(restPart, "\n" + rest);
    const more = document.createElement("button");
    more.type = "button";
    more.className = "more";
    more.textContent = "查看详细";
    more.setAttribute("aria-controls", restPart.id);
    more.setAttribute("aria-expanded", "false");
    more.addEventListener("click", () => {
      box.classList.add("expanded");
      more.setAttribute("aria-expanded", "true");
      restPart.tabIndex = -1;
      restPart.focus();
    });
    box.appendChild(restPart);
    box.appendChild(more);
  }
  if (buttons && buttons.length) box.appendChild(choiceGroup(buttons, text));
  scrollDown();
}

// Clarify options, ratings, 转人工: one group; a choice disables the group (it is answered).
function choiceGroup(buttons, text) {
  const group = document.createElement("div");
  group.className = "buttons";
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", text.includes("您是不是想问") ? "您是不是想问" : "可选操作");
  for (const b of buttons) {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = b.title;
    if (b.payload === "/request_human") btn.className = "human";
    btn.addEventListener("click", () => {
      for (const other of group.querySelectorAll("button")) other.disabled = true;
      btn.classList.add("chosen");
      send(b.payload, b.title);
    });
    group.appendChild(btn);
  }
  return group;
}

function setMode(mode) {
  statusLine.textContent = mode === "human" ? HUMAN_STATUS : BOT_STATUS;
}

// ---- talking to the app --------------------------------------------------------------------------
async function send(message, shown) {
  chips.hidden = true;
  add("me", shown || message);
  try {
    const resp = await fetch("/api/v1/chat", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({sender_id: sender, message: message, channel: "web"}),
    });
    const data = await resp.json();
    if (!resp.ok) { add("bot", typeof data.detail === "string" ? data.detail : "请求失败，请稍后再试。"); return; }
    for (const m of data.messages) if (m.text || (m.buttons && m.buttons.length)) add("bot", m.text, m.buttons);
    setMode(data.mode);
    listen();  // the first answer set this conversation's cookie: agent messages can now come in live
  } catch (e) {
    add("bot", "网络连接失败，请检查网络后重试，或拨打12345热线。");
  }
}

function askRating() {
  add("bot", "请为本次人工服务评价：");
  const group = document.createElement("div");
  group.className = "buttons";
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", "人工服务评价");
  for (const [title, rating] of [["满意", "satisfied"], ["不满意", "unsatisfied"]]) {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = title;
    btn.addEventListener("click", async () => {
      for (const other of group.querySelectorAll("button")) other.disabled = true;
      const resp = await fetch(`/api/v1/conversations/${encodeURIComponent(sender)}/rating`, {
        method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({rating}),
      });
      add("bot", resp.ok ? "感谢您对人工服务的评价！" : "评价没有提交成功，请稍后再试。");
    });
    group.appendChild(btn);
  }
  log.lastElementChild.querySelector(".bubble").appendChild(group);
  scrollDown();
}

// Agent messages and hand-off notices, live (the conversation's HttpOnly cookie opens the socket);
// reconnects with backoff and, after a drop, restores what was said meanwhile from the history.
let socket = null;
let retryDelay = 1000;
let dropped = false;
function listen() {
  if (socket) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/api/v1/conversations/${encodeURIComponent(sender)}/ws`);
  socket.onopen = () => {
    retryDelay = 1000;
    if (dropped) { dropped = false; restore(); }
  };
  socket.onmessage = (event) => {
    const data = JSON.parse(event.data);
    if (data.author === "agent") add("agent", `客服 ${data.agent}：${data.text}`);
    else add("bot", data.text);
    if (data.mode) setMode(data.mode);
    if (data.type === "ended") {
      setMode("bot");
      if (data.rate) askRating();
    }
  };
  socket.onclose = (event) => {
    socket = null;
    if (event.code === 4403) return;  // no conversation yet: the first answer opens it
    dropped = true;
    setTimeout(listen, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  };
}

// The conversation so far, after a reload or a dropped connection; false when this browser has none.
async function restore() {
  const resp = await fetch(`/api/v1/conversations/${encodeURIComponent(sender)}/messages`);
  if (!resp.ok) return false;
  const data = await resp.json();
  if (!data.messages.length) return false;
  log.replaceChildren();
  for (const m of data.messages) {
    if (m.author === "citizen") add("me", m.text);
    else if (m.author === "agent") add("agent", `客服 ${m.agent}：${m.text}`);
    else add("bot", m.text);
  }
  setMode(data.mode);
  return true;
}

async function showHotQuestions() {
  const resp = await fetch("/api/v1/hot-questions");
  if (!resp.ok) return;
  const data = await resp.json();
  const title = document.createElement("p");
  title.className = "chips-title";
  title.textContent = "大家都在问：";
  chips.replaceChildren(title);
  for (const q of data.questions) {
    const chip = document.createElement("button");
    chip.type = "button";
    chip.textContent = q;
    chip.addEventListener("click", () => send(q));
    chips.appendChild(chip);
  }
  chips.hidden = !data.questions.length;
}

// ---- elderly mode and voice input ----------------------------------------------------------------
const Recognition = window.SpeechRecognition || window.webkitSpeechRecognition;

function setElderly(on) {
  document.body.classList.toggle("elderly", on);
  elderlyToggle.setAttribute("aria-pressed", String(on));
  elderlyToggle.textContent = on ? "标准模式" : "长辈模式";
  voiceButton.hidden = !(on && Recognition);
  localStorage.setItem("govbot_elderly", on ? "1" : "0");
}
elderlyToggle.addEventListener("click", () => setElderly(!document.body.classList.contains("elderly")));

if (Recognition) {
  voiceButton.addEventListener("click", () => {
    const rec = new Recognition();
    rec.lang = "zh-CN";
    rec.interimResults = false;
    voiceButton.disabled = true;
    voiceButton.textContent = "正在听…";
    rec.onresult = (event) => { input.value = event.results[0][0].transcript; input.focus(); };
    rec.onend = () => { voiceButton.disabled = false; voiceButton.textContent = "语音"; };
    rec.start();
  });
}

// ---- the widget's frame: postMessage only to close (no data crosses) -----------------------------
if (embedded) {
  document.body.classList.add("embed");
  const close = document.getElementById("close");
  close.hidden = false;
  close.addEventListener("click", () => window.parent.postMessage({govbot: "close"}, "*"));
  window.addEventListener("message", (event) => {
    if (event.source === window.parent && event.data && event.data.govbot === "opened") input.focus();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") window.parent.postMessage({govbot: "close"}, "*");
  });
}

document.getElementById("send").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  send(text);
});

setElderly(localStorage.getItem("govbot_elderly") === "1");
(async () => {
  if (await restore()) { listen(); return; }
  sender = newSender();  // nothing this browser may read under the old id (or none yet): start afresh
  add("bot", GREETING);
  showHotQuestions();
})();
