// DOM helpers: elements built with textContent only (no HTML strings from data), tables,
// the problem box, two-click confirmations, and the keyset pager.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k === "value") el.value = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const fmt = new Intl.NumberFormat();
export const num = (n) => (n === null || n === undefined ? "–" : fmt.format(n));

// A subject's created_at: Unix seconds.
export function when(stamp) {
  if (!stamp) return "–";
  const d = new Date(stamp * 1000);
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

// The error of a failed call, as the API wrote it: title, detail, and the extra members.
export function problemBox(err) {
  const p = (err && err.problem) || { title: "Error", detail: String(err && err.message || err) };
  const known = new Set(["type", "title", "status", "detail"]);
  const extra = Object.entries(p).filter(([k, v]) => !known.has(k) && v !== null && typeof v !== "object");
  return h("div", { class: "problem", role: "alert" },
    h("strong", { class: "problem-title" }, p.title || "Error"),
    p.status ? h("span", { class: "badge badge-err" }, String(p.status)) : null,
    p.detail && p.detail !== p.title ? h("div", { class: "problem-detail" }, p.detail) : null,
    extra.length ? h("div", { class: "problem-extra" },
      extra.map(([k, v]) => h("span", {}, h("code", {}, k), " ", String(v)))) : null);
}

// A slot that shows the last error (or nothing) for one area of the page.
export function errorSlot() {
  const el = h("div", { class: "error-slot" });
  el.show = (err) => clear(el, err ? problemBox(err) : null);
  return el;
}

// A list a page loads again on demand: its error slot, a line that says what it holds, and
// its area. `load()` clears the error, then `fill(info)` fetches, writes what it got into
// `info` and returns the list, which replaces the area's content; a failure shows in `err`.
export function reloadable(fill) {
  const err = errorSlot();
  const area = h("div", {});
  const info = h("span", { class: "muted small" });

  async function load() {
    err.show(null);
    try {
      clear(area, await fill(info));
    } catch (e) { err.show(e); }
  }

  return { err, area, info, load };
}

export function table(columns, rows, { empty = "Nothing here yet.", rowAttrs } = {}) {
  const thead = h("thead", {}, h("tr", {}, columns.map((c) => h("th", { class: c.cls }, c.title))));
  const body = rows.length
    ? rows.map((r, i) => h("tr", rowAttrs ? rowAttrs(r, i) : {}, columns.map((c) => h("td", { class: c.cls }, c.cell(r, i)))))
    : [h("tr", { class: "empty" }, h("td", { colspan: String(columns.length) }, empty))];
  return h("div", { class: "table-wrap" }, h("table", {}, thead, h("tbody", {}, body)));
}

// A button that asks "sure?" on the first click and acts on the second (no window.confirm).
export function confirmButton(label, question, action, cls = "danger") {
  let armed = false;
  let timer;
  const btn = h("button", { type: "button", class: `small ${cls}` }, label);
  btn.addEventListener("click", async () => {
    if (!armed) {
      armed = true;
      btn.textContent = question;
      btn.classList.add("armed");
      timer = setTimeout(() => { armed = false; btn.textContent = label; btn.classList.remove("armed"); }, 4000);
      return;
    }
    clearTimeout(timer);
    btn.disabled = true;
    try { await action(); } finally { btn.disabled = false; armed = false; btn.textContent = label; btn.classList.remove("armed"); }
  });
  return btn;
}

export function pageHeader(title, subtitle, ...actions) {
  return h("header", { class: "page-head" },
    h("div", {}, h("h1", {}, title), subtitle ? h("p", { class: "muted" }, subtitle) : null),
    actions.length ? h("div", { class: "actions" }, actions) : null);
}

export function badge(text, kind = "") {
  return h("span", { class: `badge ${kind ? `badge-${kind}` : ""}` }, text);
}

// What differs per dialect (badge colour, grouped tags) comes from each dialect's record, served
// by /_polytag/health as `console: {dialect: {grouped, hue, callbacks, callback_modes}}`; `rememberHints` keeps it.
const HINTS = new Map();
export function rememberHints(health) {
  for (const [name, hint] of Object.entries((health && health.console) || {})) HINTS.set(name, hint);
}
export const isGrouped = (dialect) => Boolean(HINTS.get(dialect) && HINTS.get(dialect).grouped);
const hueOf = (dialect) => {
  const hue = HINTS.get(dialect) && HINTS.get(dialect).hue;
  return /^[a-z]+$/.test(hue || "") ? hue : dialect === "native" ? "purple" : "grey";
};

export function dialectBadge(dialect) {
  return h("span", { class: `badge dialect hue-${hueOf(dialect)}` }, dialect);
}

// Keyset paging: `load(cursor)` answers {items, next, total}; `render(items)` draws a page.
// It keeps the cursors seen so far so "Previous" needs no offset.
export function pager(load, render, { label = "items" } = {}) {
  const box = h("div", { class: "pager-box" });
  const body = h("div", {});
  const status = h("span", { class: "muted small pager-status" });
  const prev = h("button", { type: "button", class: "small", disabled: true }, "← Previous");
  const next = h("button", { type: "button", class: "small", disabled: true }, "Next →");
  const err = errorSlot();
  const stack = [];
  let cursor = null;
  let nextCursor = null;
  let shown = 0;

  async function show(at) {
    err.show(null);
    try {
      const page = await load(at);
      cursor = at;
      nextCursor = page.next;
      clear(body, render(page.items));
      const from = page.items.length ? shown + 1 : 0;
      status.textContent = page.total === null || page.total === undefined
        ? `${num(page.items.length)} ${label}`
        : `${num(from)}–${num(shown + page.items.length)} of ${num(page.total)} ${label}`;
      prev.disabled = stack.length === 0;
      next.disabled = !page.next;
      box.dataset.loaded = "1";
      return page;
    } catch (e) {
      err.show(e);
      return null;
    }
  }
  let sizes = [];
  next.addEventListener("click", async () => {
    const count = body.querySelectorAll("tbody tr:not(.empty), li").length;
    stack.push(cursor); sizes.push(count); shown += count;
    if (!(await show(nextCursor))) { stack.pop(); shown -= sizes.pop(); }
  });
  prev.addEventListener("click", async () => {
    const at = stack.pop(); shown -= sizes.pop();
    await show(at);
  });
  box.append(err, body, h("div", { class: "pager" }, prev, status, next));
  box.reload = () => { stack.length = 0; sizes = []; shown = 0; return show(null); };
  return box;
}

export function flash(message, kind = "ok") {
  let area = document.getElementById("flash");
  if (!area) { area = h("div", { id: "flash", class: "flash-area", "aria-live": "polite" }); document.body.append(area); }
  const item = h("div", { class: `flash flash-${kind}` }, message);
  area.append(item);
  setTimeout(() => item.remove(), 3500);
}

export function debounce(fn, ms) {
  let t;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}
