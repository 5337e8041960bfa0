const $ = (id) => document.getElementById(id);
let current = null;
let revision = null;  // the revision loaded: saves send it as If-Match, a stale one gets 409

// The session cookie signs the page's calls in; unsafe methods also send the CSRF token from its cookie.
const csrfToken = () => document.cookie.split("; ").find((c) => c.startsWith("govbot_csrf="))?.slice(12) ?? "";
const signIn = () => location.replace("/login?next=" + encodeURIComponent(location.pathname));

async function call(url, opts = {}) {
  const resp = await fetch(url, {...opts, headers: {"X-CSRF-Token": csrfToken(),
    "Content-Type": "application/json", ...(opts.headers || {})}});
  if (resp.status === 401) signIn();
  const body = resp.headers.get("content-type")?.includes("json") ? await resp.json() : await resp.text();
  if (!resp.ok) throw body;
  return body;
}
const api = (path, opts) => call("/api/v1/kb" + path, opts);
function show(text, ok) { $("msg").className = ok ? "ok" : "err"; $("msg").textContent = text; }
function explain(e) {
  const d = e.detail ?? e;
  if (d && d.errors) return (d.message || "") + "\n" + d.errors.map(x => `• ${x.field}: ${x.reason}`).join("\n");
  if (d && d.message) return d.message;
  return typeof d === "string" ? d : JSON.stringify(d);
}
async function load() {
  try {
    const items = await api("/guides?limit=1000&q=" + encodeURIComponent($("q").value));
    $("list").innerHTML = "";
    for (const g of items) {
      const div = document.createElement("div");
      div.className = "item" + (current === g.code ? " on" : "");
      div.innerHTML = `<small>${g.code}</small><span class="status ${g.status}">${g.status}</span><br>`;
      div.append(document.createTextNode(g.title));
      div.onclick = () => open(g.code);
      $("list").appendChild(div);
    }
  } catch (e) { show(explain(e)); }
}
async function open(code) {
  try {
    const g = await api("/guides/" + code);
    current = code;
    revision = g.revision;
    $("meta").textContent = `${g.code} · 状态 ${g.status} · 线上版本 v${g.live_version ?? "-"} · ${g.updated_by} 于 ${g.updated_at.slice(0, 16)}` +
      (g.review_comment ? ` · 审核意见：${g.review_comment}` : "");
    $("doc").value = JSON.stringify(g.draft, null, 2);
    $("versions").innerHTML = "";
    load();
  } catch (e) { show(explain(e)); }
}
async function act(path, body) {
  try { await api(path, {method: "POST", body: body ? JSON.stringify(body) : undefined}); show("已完成", true); open(current); }
  catch (e) { show(explain(e)); }
}
$("search").onclick = load;
$("signout").onclick = async () => { await call("/api/v1/auth/logout", {method: "POST"}).catch(() => {}); signIn(); };
$("new").onclick = () => { current = null; $("meta").textContent = "新事项（填写后保存草稿）";
  $("doc").value = JSON.stringify({code: "", title: "", department: "", faqs: [{question: "", similar_questions: [], answer: ""}]}, null, 2); };
$("save").onclick = async () => {
  let doc; try { doc = JSON.parse($("doc").value); } catch (e) { return show("JSON 格式有误：" + e.message); }
  try {
    if (current) await api("/guides/" + current, {method: "PUT", body: JSON.stringify(doc), headers: {"If-Match": `"${revision}"`}});
    else { await api("/guides", {method: "POST", body: JSON.stringify(doc)}); current = doc.code.toUpperCase(); }
    show("草稿已保存", true); open(current);
  } catch (e) { show(explain(e)); }
};
$("submit").onclick = () => act(`/guides/${current}/submit`);
$("approve").onclick = () => act(`/guides/${current}/approve`);
$("reject").onclick = () => { const c = prompt("驳回意见"); if (c) act(`/guides/${current}/reject`, {comment: c}); };
$("archive").onclick = () => confirm("归档后市民将查不到该事项，确定？") && act(`/guides/${current}/archive`);
$("history").onclick = async () => {
  try {
    const vs = await api(`/guides/${current}/versions`);
    $("versions").innerHTML = "<b>历史版本</b>";
    for (const v of vs) {
      const row = document.createElement("div");
      row.textContent = `v${v.version} · ${v.published_by} · ${v.published_at.slice(0, 16)} ${v.note} `;
      const diff = document.createElement("button"); diff.textContent = "与上一版对比";
      diff.onclick = async () => { const d = await api(`/guides/${current}/diff?a=${Math.max(1, v.version - 1)}&b=${v.version}`);
        const pre = document.createElement("pre"); pre.textContent = d.diff || "（无差异）"; row.appendChild(pre); };
      const back = document.createElement("button"); back.textContent = "回滚到此版";
      back.onclick = () => confirm(`回滚到 v${v.version}？将发布为新版本`) && act(`/guides/${current}/rollback`, {version: v.version});
      row.append(diff, back);
      $("versions").appendChild(row);
    }
  } catch (e) { show(explain(e)); }
};
$("test").onclick = async () => {
  try {
    const r = await api("/search?q=" + encodeURIComponent($("tq").value));
    $("result").textContent = `决策：${r.decision}（置信度 ${r.confidence}）\n` +
      r.matches.map((m, i) => `${i + 1}. ${m.code} ${m.title}  ${m.score}`).join("\n");
  } catch (e) { $("result").textContent = explain(e); }
};
call("/api/v1/auth/me").then((me) => { $("who").textContent = `已登录：${me.name}（${me.role}）`; }).catch(() => {});
load();
