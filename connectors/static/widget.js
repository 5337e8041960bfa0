// The embeddable chat: <script src="https://gov.example/static/chat/widget.js" data-govbot-title="…" async></script>
// on any city page adds a launcher that opens the chat page of our own origin (/?embed=1) in an iframe, so the
// chat's cookie, storage and CSP stay first-party to us. postMessage carries only open/close, origin-checked.
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script || document.getElementById("govbot-launcher")) return;
  const origin = new URL(script.src).origin;
  const title = script.dataset.govbotTitle || "政务通 智能客服";

  const style = document.createElement("link");
  style.rel = "stylesheet";
  style.href = origin + "/static/chat/widget.css";
  document.head.appendChild(style);

  const launcher = document.createElement("button");
  launcher.type = "button";
  launcher.id = "govbot-launcher";
  launcher.textContent = "在线咨询";
  launcher.setAttribute("aria-label", "打开" + title);
  launcher.setAttribute("aria-controls", "govbot-panel");
  launcher.setAttribute("aria-expanded", "false");

  const panel = document.createElement("div");
  panel.id = "govbot-panel";
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  panel.hidden = true;
  let frame = null;

  function tellFrame() {
    if (frame && frame.contentWindow) frame.contentWindow.postMessage({govbot: "opened"}, origin);
  }

  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = origin + "/?embed=1";
      frame.title = title;
      frame.setAttribute("allow", "microphone");  // voice input in elderly mode
      frame.addEventListener("load", tellFrame);
      panel.appendChild(frame);
    }
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.hidden = true;
    frame.focus();
    tellFrame();
  }

  function close() {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", open);
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) return;
    if (event.data && event.data.govbot === "close") close();
  });
  document.body.appendChild(panel);
  document.body.appendChild(launcher);
})();
