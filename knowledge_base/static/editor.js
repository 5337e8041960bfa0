const $ = (id) => document.getElementById(id);
$("token").value = localStorage.getItem("govbot_token") || "";
$("token").onchange = () => localStorage.setItem("govbot_token", $("token").value);
let current = null;

async function api(path, opts = {}) {
  const resp = await fetch("/api/v1/kb" + path, {...opts, headers: {"Authorization": "Bearer " + $("token").value,
    "Content-Type": "application/json", ...(opts.headers || {})}});
  const body = resp.headers.get("content-type")?.includes("json") ? await resp.json() : await resp.text();
  if (!resp.ok) throw body;
  return body;
}
function show(text, ok) { $("msg").className = ok ? "ok" : "err"; $("msg").textContent = text; }
function explain(e) {
  const d = e.detail ?? e;
  if (d && d.errors) return (d.message || "") + "\n" + d.errors.map(x => `• ${x.field}: ${x.reason}`).join("\n");
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
$("new").onclick = () => { current = null; $("meta").textContent = "新事项（填写后保存草稿）";
  $("doc").value = JSON.stringify({code: "", title: "", department: "", faqs: [{question: "", similar_questions: [], answer: ""}]}, null, 2); };
$("save").onclick = async () => {
  let doc; try { doc = JSON.parse($("doc").value); } catch (e) { return show("JSON 格式有误：" + e.message); }
  try {
    if (current) await api("/guides/" + current, {method: "PUT", body: JSON.stringify(doc)});
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
load();
