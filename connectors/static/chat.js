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
  } catch (e) {
    add("bot", "网络连接失败，请检查网络后重试，或拨打12345热线。");
  }
}

document.getElementById("send").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = input.value.trim();
  if (!text) return;
  input.value = "";
  send(text);
});
add("bot", "您好！我是政务通智能客服。可以问我办事指南、查询办件进度、预约办理。");
