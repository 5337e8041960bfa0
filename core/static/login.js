// Sign in, then go back to the page that sent us here (only a path on this site: no open redirect).
const $ = (id) => document.getElementById(id);

function nextPage() {
  const next = new URLSearchParams(location.search).get("next") || "/editor";
  return /^\/(?![\/\\])/.test(next) ? next : "/editor";
}

$("login").onsubmit = async (event) => {
  event.preventDefault();
  const button = event.submitter || document.querySelector("button");
  button.disabled = true;
  $("msg").textContent = "";
  try {
    const resp = await fetch("/api/v1/auth/login", {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({name: $("name").value.trim(), password: $("password").value})});
    if (resp.ok) { location.replace(nextPage()); return; }
    const body = await resp.json().catch(() => ({}));
    $("msg").textContent = typeof body.detail === "string" ? body.detail : "登录失败 / sign-in failed";
    $("password").value = "";
    $("password").focus();
  } catch (e) {
    $("msg").textContent = "无法连接服务器 / cannot reach the server";
  } finally {
    button.disabled = false;
  }
};
