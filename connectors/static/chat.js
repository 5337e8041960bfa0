const log = document.getElementById("log");
const input = document.getElementById("text");
const sender = localStorage.getItem("govbot_sender") || ("web-" + Math.random().toString(36).slice(2, 12));
localStorage.setItem("govbot_sender", sender);

function add(who, text, buttons) {
  const row = document.createElement("div");
  row.className = "msg " + who;
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  bubble.textContent = text;
  if (buttons && buttons.length) {
    const box = document.createElement("div");
    box.className = "buttons";
    for (const b of buttons) {
      const btn = document.createElement("button");
      btn.type = "button";
      btn.textContent = b.title;
      btn.onclick = () => send(b.payload, b.title);
      box.appendChild(btn);
    }
    bubble.appendChild(box);
  }
  row.appendChild(bubble);
  log.appendChild(row);
  window.scrollTo(0, document.body.scrollHeight);
}

async function send(message, shown) {
  add("me", shown || message);
  try {
    const resp = await fetch("/api/v1/chat", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({sender_id: sender, message: message, channel: "web"}),
    });
    const data = await resp.json();
    if (!resp.ok) { add("bot", data.detail || "请求失败，请稍后再试。"); return; }
    for (const m of data.messages) add("bot", m.text, m.buttons);
    if (data.mode === "human") document.querySelector("header small").textContent = "已转人工客服 · 工作人员会在这里回复您";
    listen();  // the first answer set this conversation's cookie: agent messages can now come in live
  } catch (e) {
    add("bot", "网络连接失败，请检查网络后重试，或拨打12345热线。");
  }
}

// Agent messages and hand-off notices, live (the conversation's HttpOnly cookie opens the socket).
let socket = null;
function listen() {
  if (socket) return;
  socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/conversations/${encodeURIComponent(sender)}/ws`);
  socket.onmessage = (event) => {
    const data = JSON.parse(event.data);
    if (data.author === "agent") add("agent", `客服 ${data.agent}：${data.text}`);
    else add("bot", data.text);
    if (data.type === "ended") {
      document.querySelector("header small").textContent = "答复依据本市办事指南 · 需要人工请说“转人工”或拨打12345";
      if (data.rate) askRating();
    }
  };
  socket.onclose = (event) => {
    socket = null;
    if (event.code !== 4403) setTimeout(listen, 3000);  // 4403: no conversation yet; the first answer opens it
  };
}

function askRating() {
  const row = document.createElement("div");
  row.className = "msg bot";
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  bubble.textContent = "请为本次人工服务评价：";
  const box = document.createElement("div");
  box.className = "buttons";
  for (const [title, rating] of [["满意", "satisfied"], ["不满意", "unsatisfied"]]) {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = title;
    btn.onclick = async () => {
      for (const b of box.querySelectorAll("button")) b.disabled = true;
      const resp = await fetch(`/api/v1/conversations/${encodeURIComponent(sender)}/rating`, {
        method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({rating}),
      });
      add("bot", resp.ok ? "感谢您对人工服务的评价！" : "评价没有提交成功，请稍后再试。");
    };
    box.appendChild(btn);
  }
  bubble.appendChild(box);
  row.appendChild(bubble);
  log.appendChild(row);
  window.scrollTo(0, document.body.scrollHeight);
}

document.getElementById("send").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  send(text);
});
add("bot", "您好！我是政务通智能客服。可以问我办事指南、查询办件进度、预约办理。");
listen();
