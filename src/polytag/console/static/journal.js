// The emulator's control plane: the request journal (filter, expand an entry to its bodies,
// clear) and the injected faults (list, add, remove), from /_polytag/.

import { del, get, post, query, seg } from "./api.js";
import { badge, clear, confirmButton, dialectBadge, errorSlot, flash, h, num, pageHeader, reloadable, table } from "./ui.js";

const P = "/_polytag";

function hashParams() {
  const q = location.hash.split("?")[1] || "";
  return new URLSearchParams(q);
}

async function choices() {
  const [apps, health] = await Promise.all([get("/v1/apps").catch(() => []), get(`${P}/health`).catch(() => ({ dialects: [] }))]);
  return { apps: apps.map((a) => a.name), dialects: health.dialects || [] };
}

const select = (label, values, current, all = "Any") => h("select", { "aria-label": label },
  h("option", { value: "" }, `${all}`), values.map((v) => h("option", { value: v, selected: v === current }, v)));

// The vendor's own verdict, when the body carries one (errcode / ErrorCode / code).
function vendorCode(body) {
  if (!body || typeof body !== "object") return null;
  for (const k of ["errcode", "ErrorCode", "code"]) if (typeof body[k] === "number") return body[k];
  return null;
}

const pretty = (v) => (v === null || v === undefined ? "(empty)" : typeof v === "string" ? v : JSON.stringify(v, null, 2));

export async function journalView(slot) {
  const params = hashParams();
  const { apps, dialects } = await choices();
  const app = select("App", apps, params.get("app") || "", "Any app");
  const dialect = select("Dialect", dialects, params.get("dialect") || "", "Any dialect");
  const path = h("input", { type: "search", placeholder: "Path or glob, e.g. tags/*", "aria-label": "Path filter", value: params.get("path") || "" });
  const limit = h("select", { "aria-label": "Show" }, [["50", "Last 50"], ["200", "Last 200"], ["1000", "Last 1,000"], ["", "All kept"]]
    .map(([v, label]) => h("option", { value: v }, label)));
  limit.value = "200";
  const { err, area, info, load } = reloadable(async (shown) => {
    const got = await get(`${P}/requests${query({ app: app.value, dialect: dialect.value, path: path.value.trim(), limit: limit.value })}`);
    const entries = got.requests.slice().reverse();
    shown.textContent = `${num(got.count)} shown · journal keeps the last ${num(got.size)} calls`;
    return entriesTable(entries);
  });

  for (const el of [app, dialect, limit]) el.addEventListener("change", load);
  path.addEventListener("keydown", (ev) => { if (ev.key === "Enter") load(); });
  slot.append(
    pageHeader("Journal", "Every vendor call the emulator answered, newest first. Click a row for its bodies."),
    h("div", { class: "toolbar filters" }, app, dialect, path, limit,
      h("button", { type: "button", class: "primary", onclick: load }, "Refresh"),
      confirmButton("Clear journal", "Clear all entries?", async () => {
        const got = await del(`${P}/requests${query({ app: app.value })}`);
        flash(`Cleared ${got.cleared} entries`);
        await load();
      })),
    info, err, area);
  await load();
}

function entriesTable(entries) {
  const wrap = table([
    { title: "#", cls: "num", cell: (e) => String(e.id) },
    { title: "Time", cell: (e) => h("span", { class: "nowrap" }, new Date(e.time * 1000).toISOString().slice(11, 23)) },
    { title: "App", cell: (e) => e.app || h("span", { class: "muted" }, "–") },
    { title: "Dialect", cell: (e) => dialectBadge(e.dialect) },
    { title: "Call", cell: (e) => h("span", { class: "mono" }, h("span", { class: "method" }, e.method), " ", e.path) },
    { title: "Status", cell: (e) => {
      const code = vendorCode(e.response_body);
      return h("span", { class: "nowrap" }, badge(String(e.status), e.status >= 400 ? "err" : "ok"),
        code ? [" ", badge(`code ${code}`, "err")] : null);
    } },
    { title: "ms", cls: "num", cell: (e) => e.latency_ms.toFixed(1) },
  ], entries, {
    empty: "No calls match. Vendor calls appear here as they arrive.",
    rowAttrs: (e) => ({ class: "expandable", tabindex: "0", dataset: { id: String(e.id), path: e.path }, "aria-expanded": "false" }),
  });
  const byId = new Map(entries.map((e) => [String(e.id), e]));
  const toggle = (tr) => {
    const open = tr.nextElementSibling && tr.nextElementSibling.classList.contains("detail");
    if (open) { tr.nextElementSibling.remove(); tr.setAttribute("aria-expanded", "false"); return; }
    tr.setAttribute("aria-expanded", "true");
    tr.after(detailRow(byId.get(tr.dataset.id), tr.children.length));
  };
  wrap.addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr.expandable");
    if (tr) toggle(tr);
  });
  wrap.addEventListener("keydown", (ev) => {
    const tr = ev.target.closest("tr.expandable");
    if (tr && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); toggle(tr); }
  });
  return wrap;
}

function detailRow(e, span) {
  const query = Object.keys(e.query || {}).length ? e.query : null;
  return h("tr", { class: "detail" }, h("td", { colspan: String(span) },
    h("div", { class: "detail-grid" },
      h("div", {}, h("h4", {}, "Request", e.request_truncated ? " (truncated)" : ""),
        query ? [h("div", { class: "muted small" }, "Query"), h("pre", { class: "code" }, pretty(query))] : null,
        h("div", { class: "muted small" }, "Body"), h("pre", { class: "code request-body" }, pretty(e.request_body))),
      h("div", {}, h("h4", {}, `Response ${e.status}`, e.response_truncated ? " (truncated)" : ""), h("pre", { class: "code response-body" }, pretty(e.response_body)))),
    h("p", { class: "muted small" }, `request id ${e.rid || "–"} · ${new Date(e.time * 1000).toISOString()}`)));
}

// faults ------------------------------------------------------------------------------
const CAPTIONS = { dialect: "Dialect", app: "App", path: "Path", error: "Error code", latency: "Latency (ms)", times: "Times" };
export async function faultsView(slot) {
  const { apps, dialects } = await choices();
  const err = errorSlot();
  const area = h("div", {});

  async function load() {
    const got = await get(`${P}/faults`);
    clear(area, table([
      { title: "Id", cell: (f) => h("code", {}, f.id) },
      { title: "Dialect", cell: (f) => dialectBadge(f.dialect) },
      { title: "App", cell: (f) => f.app || h("span", { class: "muted" }, "any") },
      { title: "Path", cell: (f) => (f.path ? h("code", {}, f.path) : h("span", { class: "muted" }, "any")) },
      { title: "Error", cls: "num", cell: (f) => (f.error === null ? "–" : String(f.error)) },
      { title: "Latency", cls: "num", cell: (f) => (f.latency_ms ? `${num(f.latency_ms)} ms` : "–") },
      { title: "Probability", cls: "num", cell: (f) => `${Math.round(f.probability * 100)}%` },
      { title: "Left", cls: "num", cell: (f) => (f.times === null ? "∞" : String(f.times)) },
      { title: "Fired", cls: "num", cell: (f) => String(f.fired) },
      { title: "", cls: "actions-cell", cell: (f) => h("button", { type: "button", class: "small danger", "aria-label": `Remove fault ${f.id}`,
        onclick: () => act(() => del(`${P}/faults/${seg(f.id)}`), `Removed fault ${f.id}`) }, "Remove") },
    ], got.faults, { empty: "No faults injected: every call is answered normally.", rowAttrs: (f) => ({ dataset: { fault: f.id } }) }));
  }

  async function act(fn, done) {
    err.show(null);
    try { await fn(); flash(done); await load(); return true; } catch (e) { err.show(e); return false; }
  }

  const f = {
    dialect: select("Fault dialect", dialects, dialects[0] || "", "Dialect…"),
    app: select("Fault app", apps, "", "Any app"),
    path: h("input", { type: "text", placeholder: "Path glob (any)", "aria-label": "Fault path" }),
    error: h("input", { type: "number", placeholder: "Vendor error code", "aria-label": "Fault error code" }),
    latency: h("input", { type: "number", min: "0", placeholder: "Latency ms", "aria-label": "Fault latency ms", class: "mid" }),
    times: h("input", { type: "number", min: "1", placeholder: "Times (∞)", "aria-label": "Fault times", class: "mid" }),
  };
  const form = h("form", { class: "inline-form", onsubmit: async (ev) => {
    ev.preventDefault();
    const doc = { dialect: f.dialect.value };
    if (f.app.value) doc.app = f.app.value;
    if (f.path.value.trim()) doc.path = f.path.value.trim();
    if (f.error.value !== "") doc.error = Number(f.error.value);
    if (f.latency.value !== "") doc.latency_ms = Number(f.latency.value);
    if (f.times.value !== "") doc.times = Number(f.times.value);
    await act(() => post(`${P}/faults`, doc), "Fault added");
  } }, h("strong", { class: "form-label" }, "Inject a fault"),
  Object.entries(f).map(([k, input]) => h("label", { class: "field" }, h("span", {}, CAPTIONS[k]), input)),
  h("button", { type: "submit", class: "primary" }, "Add fault"));

  slot.append(
    pageHeader("Faults", "Vendor errors and latency injected into matching calls, answered in the dialect's own envelope.",
      confirmButton("Remove all", "Remove every fault?", () => act(() => del(`${P}/faults`), "Removed every fault"))),
    h("section", { class: "card" }, form), err, area);
  await load();
}
