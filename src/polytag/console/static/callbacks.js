// Callbacks: an app's callback configuration (view and set), the vendor's URL check, and the
// delivery journal (newest first; a row expands to the request and each attempt), from /_polytag/.

import { call, get, post, query } from "./api.js";
import { badge, clear, errorSlot, flash, h, num, pageHeader, table } from "./ui.js";

const P = "/_polytag";
const STATES = { delivered: "ok", failed: "err", refused: "err", dropped: "err" };

const pretty = (v) => (v === null || v === undefined || v === "" ? "(empty)" : typeof v === "string" ? v : JSON.stringify(v, null, 2));

export async function callbacksView(slot) {
  // the dialects that push callbacks, from each record (/_polytag/health's console hints)
  const health = await get(`${P}/health`).catch(() => ({ console: {} }));
  const pushing = (d) => Boolean(((health.console || {})[d] || {}).callbacks);
  const listed = (await get("/v1/apps").catch(() => [])).filter((a) => pushing(a.dialect));
  const apps = listed.map((a) => a.name);
  // the modes of the app's dialect (its record's callback face), the first its default
  const modesOf = (name) => {
    const found = listed.find((a) => a.name === name);
    const modes = found ? ((health.console || {})[found.dialect] || {}).callback_modes : null;
    return Array.isArray(modes) && modes.length ? modes : ["plain", "compat", "safe"];
  };
  const wanted = new URLSearchParams(location.hash.split("?")[1] || "").get("app");
  const app = h("select", { "aria-label": "Callback app" }, apps.map((n) => h("option", { value: n, selected: n === wanted }, n)));
  const err = errorSlot();
  const config = h("div", {});
  const area = h("div", {});
  const info = h("span", { class: "muted small" });

  async function load() {
    err.show(null);
    if (!app.value) { clear(area, h("p", { class: "muted" }, "No app here belongs to a dialect that sends callbacks.")); return; }
    try {
      const [cfg, got] = await Promise.all([get(`${P}/callbacks/config${query({ app: app.value })}`),
        get(`${P}/callbacks${query({ app: app.value })}`)]);
      clear(config, configForm(cfg.callback, save, modesOf(app.value)));
      info.textContent = `${num(got.count)} deliveries · ${num(got.pending)} pending`;
      clear(area, deliveriesTable(got.deliveries.slice().reverse()));
    } catch (e) { err.show(e); }
  }

  async function save(doc) {
    err.show(null);
    try { await call("PUT", `${P}/callbacks/config${query({ app: app.value })}`, doc); flash("Callback saved"); await load(); } catch (e) { err.show(e); }
  }

  async function verify() {
    err.show(null);
    try {
      const got = await post(`${P}/callbacks/verify`, { app: app.value });
      flash(got.ok ? "URL check passed" : `URL check failed: ${got.answer ? got.answer.error || got.answer.body : got.error}`, got.ok ? "ok" : "err");
      await load();
    } catch (e) { err.show(e); }
  }

  app.addEventListener("change", load);
  slot.append(
    pageHeader("Callbacks", "Events pushed to the developer's server as the vendor pushes them, newest first. Click a row for the request and each attempt."),
    h("div", { class: "toolbar filters" }, app,
      h("button", { type: "button", class: "primary", onclick: load }, "Refresh"),
      h("button", { type: "button", onclick: verify }, "Run URL check")),
    h("section", { class: "card" }, config), info, err, area);
  await load();
}

function configForm(cfg, save, modes) {
  const c = cfg || { url: "", token: "", encoding_aes_key: "", mode: modes[0] };
  const f = {
    url: h("input", { type: "url", value: c.url, placeholder: "http://127.0.0.1:9000/callback", "aria-label": "Callback URL" }),
    token: h("input", { type: "text", value: c.token, "aria-label": "Callback token", class: "mid" }),
    encoding_aes_key: h("input", { type: "text", value: c.encoding_aes_key, "aria-label": "EncodingAESKey", maxlength: "43" }),
    mode: h("select", { "aria-label": "Callback mode" }, modes.map((m) => h("option", { value: m, selected: m === c.mode }, m))),
  };
  return h("form", { class: "inline-form", onsubmit: (ev) => {
    ev.preventDefault();
    const doc = Object.fromEntries(Object.entries(f).map(([k, el]) => [k, el.value.trim()]));
    if (!doc.encoding_aes_key) delete doc.encoding_aes_key;
    save(doc);
  } }, h("strong", { class: "form-label" }, cfg ? "Callback" : "No callback configured"),
  Object.entries(f).map(([k, el]) => h("label", { class: "field" }, h("span", {}, k), el)),
  h("button", { type: "submit", class: "primary" }, "Save"));
}

function deliveriesTable(rows) {
  const wrap = table([
    { title: "#", cls: "num", cell: (d) => String(d.id) },
    { title: "Event", cell: (d) => h("code", {}, d.event) },
    { title: "From", cell: (d) => d.fields.FromUserName || h("span", { class: "muted" }, "–") },
    { title: "State", cell: (d) => badge(d.state, STATES[d.state] || "") },
    { title: "Attempts", cls: "num", cell: (d) => String(d.attempts.length) },
    { title: "ms", cls: "num", cell: (d) => (d.latency_ms === null ? "–" : d.latency_ms.toFixed(1)) },
    { title: "Note", cell: (d) => h("span", { class: "muted small" }, d.duplicate_of ? `duplicate of #${d.duplicate_of}` : d.note) },
  ], rows, {
    empty: "Nothing sent yet. POST /_polytag/simulate (or `polytag simulate`) makes a vendor event happen.",
    rowAttrs: (d) => ({ class: "expandable", tabindex: "0", dataset: { delivery: String(d.id) } }),
  });
  const byId = new Map(rows.map((d) => [String(d.id), d]));
  wrap.addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr.expandable");
    if (!tr) return;
    if (tr.nextElementSibling && tr.nextElementSibling.classList.contains("detail")) { tr.nextElementSibling.remove(); return; }
    const d = byId.get(tr.dataset.delivery);
    tr.after(h("tr", { class: "detail" }, h("td", { colspan: String(tr.children.length) },
      h("div", { class: "detail-grid" },
        h("div", {}, h("h4", {}, `${d.request.method} request`), h("pre", { class: "code" }, d.request.url),
          h("pre", { class: "code request-body" }, pretty(d.request.body))),
        h("div", {}, h("h4", {}, "Attempts"), d.attempts.map((a) => h("pre", { class: "code attempt" },
          `#${a.number} ${a.status === null ? a.error : `HTTP ${a.status}`} · ${a.ms} ms\n${pretty(a.body)}`)))))));
  });
  return wrap;
}
