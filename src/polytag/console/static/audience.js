// The audience builder: an expression typed as text, its count live (debounced), its members
// paged by cursor, and the export downloaded through fetch + Blob (the key stays in a header).

import { appPath, call, get, post } from "./api.js";
import { appHeader } from "./apps.js";
import { subjectList } from "./members.js";
import { clear, debounce, errorSlot, flash, h, num, pager } from "./ui.js";

const WORD = /^[^\s&|!()"#]+$/;
const quoteTag = (name) => (WORD.test(name) ? name : `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`);

export async function audienceView(slot, appName) {
  await appHeader(slot, appName, "audience");
  const base = appPath(appName);
  const tags = await get(`${base}/tags`);
  const remembered = `polytag.expr.${appName}`;
  const expr = h("textarea", { id: "expr", rows: "3", spellcheck: "false", class: "expr-input", "aria-label": "Audience expression",
    placeholder: "e.g.  vip & (north | \"big spenders\") & !blacklist" });
  expr.value = sessionStorage.getItem(remembered) || "";
  const count = h("output", { class: "count-value", id: "audience-count", "aria-live": "polite" }, "–");
  const countNote = h("span", { class: "muted small", id: "count-note" }, "Type an expression");
  const exprErr = h("div", { class: "expr-error", id: "expr-error" });
  const membersArea = h("section", { class: "card", hidden: true });
  const exportErr = errorSlot();
  let seq = 0;
  let list = null;

  const recount = debounce(async () => {
    const text = expr.value;
    sessionStorage.setItem(remembered, text);
    const mine = ++seq;
    if (!text.trim()) {
      count.textContent = "–"; countNote.textContent = "Type an expression"; clear(exprErr); return;
    }
    countNote.textContent = "Counting…";
    try {
      const got = await post(`${base}/audiences/count`, { expr: text });
      if (mine !== seq) return;
      count.textContent = num(got.count);
      count.dataset.count = String(got.count);
      countNote.textContent = got.count === 1 ? "subject matches" : "subjects match";
      clear(exprErr);
      if (list) list.reload();
    } catch (e) {
      if (mine !== seq) return;
      count.textContent = "–";
      delete count.dataset.count;
      countNote.textContent = "Not a valid expression";
      clear(exprErr, exprProblem(text, e));
    }
  }, 250);
  expr.addEventListener("input", recount);

  const palette = h("div", { class: "palette", "aria-label": "Tags (click to insert)" }, h("span", { class: "muted small" }, "Insert"),
    ["&", "|", "!", "(", ")"].map((op) => h("button", { type: "button", class: "small op", onclick: () => insert(op === "!" ? "!" : ` ${op} `) }, op)),
    tags.map((t) => h("button", { type: "button", class: "small tag-chip", title: `${t.name} (id ${t.id}, ${t.count} members)`,
      onclick: () => insert(quoteTag(t.name)) }, t.name)));

  function insert(text) {
    const at = expr.selectionStart ?? expr.value.length;
    expr.setRangeText(text, at, expr.selectionEnd ?? at, "end");
    expr.focus();
    recount();
  }

  const showMembers = h("button", { type: "button", onclick: () => {
    list = pager((cursor) => post(`${base}/audiences/members`, { expr: expr.value, cursor, limit: 50 }),
      (items) => subjectList(appName, items), { label: "members" });
    clear(membersArea, h("h2", {}, "Members"), list);
    membersArea.hidden = false;
    list.reload();
  } }, "List members");

  const format = h("select", { "aria-label": "Export format" }, h("option", { value: "ndjson" }, "NDJSON"), h("option", { value: "csv" }, "CSV"));
  const exportBtn = h("button", { type: "button", onclick: async () => {
    exportErr.show(null);
    exportBtn.disabled = true;
    try {
      const csv = format.value === "csv";
      const resp = await call("POST", `${base}/audiences/export`, { expr: expr.value }, { raw: true, accept: csv ? "text/csv" : "application/x-ndjson" });
      const blob = await resp.blob();
      const a = h("a", { href: URL.createObjectURL(blob), download: `${appName}-audience.${csv ? "csv" : "ndjson"}` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      flash(`Exported ${num(blob.size)} bytes`);
    } catch (e) { exportErr.show(e); } finally { exportBtn.disabled = false; }
  } }, "Download export");

  slot.append(
    h("section", { class: "card audience" },
      h("label", { for: "expr", class: "strong" }, "Expression"),
      h("p", { class: "muted small" }, "& and, | or, ! not, parentheses group; quote names with spaces; #id names a tag by id."),
      expr, palette, exprErr,
      h("div", { class: "count-row" }, count, countNote),
      h("div", { class: "toolbar" }, showMembers, format, exportBtn), exportErr),
    membersArea);
  if (expr.value) recount();
}

// A 400 from the parser: its detail, and the expression with a caret under the position.
function exprProblem(text, err) {
  const p = err.problem || {};
  const pos = typeof p.position === "number" ? Math.min(p.position, text.length) : null;
  return h("div", { class: "problem", role: "alert" },
    h("strong", { class: "problem-title" }, p.title || "Error"),
    h("div", { class: "problem-detail" }, p.detail || err.message),
    pos === null ? null : h("pre", { class: "caret" },
      h("span", {}, text.slice(0, pos)), h("mark", {}, text.slice(pos, pos + 1) || " "), h("span", {}, text.slice(pos + 1))),
    pos === null ? null : h("div", { class: "muted small" }, `The highlighted character is at position ${pos}.`));
}
