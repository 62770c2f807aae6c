// What was sent to an audience (mass messages, push tasks), read-only, from
// /_polytag/sends: newest first; a row expands to who the send reached at send time.

import { get, query } from "./api.js";
import { badge, dialectBadge, h, num, pageHeader, reloadable, table } from "./ui.js";

const P = "/_polytag";

export async function sendsView(slot) {
  const apps = await get("/v1/apps").catch(() => []);
  const app = h("select", { "aria-label": "Sends app" }, h("option", { value: "" }, "Every app"),
    apps.map((a) => h("option", { value: a.name }, a.name)));
  const { err, area, info, load } = reloadable(async (shown) => {
    const got = await get(`${P}/sends${query({ app: app.value })}`);
    shown.textContent = `${num(got.count)} sends`;
    return sendsTable(got.sends.slice().reverse());
  });

  app.addEventListener("change", load);
  slot.append(
    pageHeader("Sends", "Messages sent to an audience, newest first. Click a row for who it reached."),
    h("div", { class: "toolbar filters" }, app, h("button", { type: "button", class: "primary", onclick: load }, "Refresh")),
    info, err, area);
  await load();
}

function sendsTable(sends) {
  const wrap = table([
    { title: "Id", cell: (s) => h("code", {}, s.id) },
    { title: "Time", cell: (s) => h("span", { class: "nowrap" }, new Date(s.created_at * 1000).toISOString().slice(0, 19).replace("T", " ")) },
    { title: "App", cell: (s) => s.app },
    { title: "Dialect", cell: (s) => dialectBadge(s.dialect) },
    { title: "To", cell: (s) => h("span", {}, s.kind, s.target ? [" ", h("code", {}, s.target)] : null) },
    { title: "Type", cell: (s) => s.msgtype || h("span", { class: "muted" }, "–") },
    { title: "Status", cell: (s) => badge(s.status, s.status === "sent" ? "ok" : "err") },
    { title: "Audience", cls: "num", cell: (s) => num(s.audience_size) },
  ], sends, {
    empty: "Nothing sent yet. Mass messages and push tasks appear here as vendor calls send them.",
    rowAttrs: (s) => ({ class: "expandable", tabindex: "0", dataset: { send: s.id }, "aria-expanded": "false" }),
  });
  const byId = new Map(sends.map((s) => [s.id, s]));
  const toggle = (tr) => {
    const open = tr.nextElementSibling && tr.nextElementSibling.classList.contains("detail");
    if (open) { tr.nextElementSibling.remove(); tr.setAttribute("aria-expanded", "false"); return; }
    tr.setAttribute("aria-expanded", "true");
    const s = byId.get(tr.dataset.send);
    tr.after(h("tr", { class: "detail" }, h("td", { colspan: String(tr.children.length) },
      h("div", { class: "muted small" }, "Reached"),
      h("pre", { class: "code audience" }, s.audience.length ? s.audience.join("\n") : "(nobody)"),
      h("div", { class: "muted small" }, "Message"),
      h("pre", { class: "code" }, JSON.stringify({ message: s.message, options: s.options }, null, 2)))));
  };
  wrap.addEventListener("click", (ev) => { const tr = ev.target.closest("tr.expandable"); if (tr) toggle(tr); });
  wrap.addEventListener("keydown", (ev) => {
    const tr = ev.target.closest("tr.expandable");
    if (tr && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); toggle(tr); }
  });
  return wrap;
}
