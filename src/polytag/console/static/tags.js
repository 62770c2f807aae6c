// Tags of an app: groups and tags in list order (larger order first), member counts, a bar
// chart of the largest, and create / rename / reorder / delete through /v1.

import { appPath, del, get, patch, post, seg } from "./api.js";
import { appHeader, refreshSummary } from "./apps.js";
import { badge, clear, confirmButton, errorSlot, flash, h, isGrouped, num, table } from "./ui.js";

export async function tagsView(slot, appName) {
  const app = await appHeader(slot, appName, "tags");
  const base = appPath(appName);
  const err = errorSlot();
  const chart = h("section", { class: "card chart-card" });
  const lists = h("div", { class: "tag-lists" });
  const state = { tags: [], groups: [] };
  const grouped = () => isGrouped(app.dialect) || state.groups.length > 0;

  async function act(fn, done) {
    err.show(null);
    try {
      await fn();
      if (done) flash(done);
      await refresh();
      return true;
    } catch (e) {
      err.show(e);
      err.scrollIntoView({ block: "nearest" });
      return false;
    }
  }

  async function refresh() {
    const [tags, groups] = await Promise.all([get(`${base}/tags`), get(`${base}/groups`)]);
    Object.assign(state, { tags, groups });
    refreshSummary(slot, appName);
    drawChart(chart, tags, appName);
    clear(forms, tagForm(), grouped() ? groupForm() : null);
    clear(lists, groups.map(groupSection), ungroupedSection());
  }

  // Moves item i of `siblings` by `step` and renumbers them len..1 (PATCHing only what changed).
  async function move(siblings, i, step, pathOf) {
    const list = [...siblings];
    const [item] = list.splice(i, 1);
    list.splice(i + step, 0, item);
    const changes = list.map((t, k) => [t, list.length - k]).filter(([t, order]) => t.order !== order);
    await act(async () => { for (const [t, order] of changes) await patch(pathOf(t), { order }); });
  }

  // Order means something inside a group (grouped dialects list by it); loose tags keep the API's order.
  function tagRows(tags, movable) {
    const pathOf = (t) => `${base}/tags/${seg(t.id)}`;
    return table([
      { title: "Tag", cell: (t) => h("a", { href: `#/apps/${seg(appName)}/tags/${seg(t.id)}`, class: "strong" }, t.name) },
      { title: "Id", cell: (t) => h("code", { class: "muted" }, t.id) },
      { title: "Order", cls: "num", cell: (t) => String(t.order) },
      { title: "Members", cls: "num", cell: (t) => num(t.count) },
      { title: "", cls: "actions-cell", cell: (t, i) => h("span", { class: "row-actions" },
        movable ? [
          h("button", { type: "button", class: "small icon", title: "Move up", "aria-label": `Move ${t.name} up`, disabled: i === 0,
            onclick: () => move(tags, i, -1, pathOf) }, "↑"),
          h("button", { type: "button", class: "small icon", title: "Move down", "aria-label": `Move ${t.name} down`, disabled: i === tags.length - 1,
            onclick: () => move(tags, i, 1, pathOf) }, "↓")] : null,
        h("button", { type: "button", class: "small", onclick: (ev) => editRow(ev.target.closest("tr"), t, pathOf(t)) }, "Edit"),
        confirmButton("Delete", "Delete?", () => act(() => del(pathOf(t)), `Deleted tag ${t.name}`))) },
    ], tags, { empty: "No tags.", rowAttrs: (t) => ({ dataset: { tag: t.name, id: t.id } }) });
  }

  // Inline edit: name and order in the row itself.
  function editRow(tr, item, path) {
    const name = h("input", { type: "text", value: item.name, "aria-label": "Tag name", class: "grow" });
    const order = h("input", { type: "number", value: String(item.order), "aria-label": "Tag order", class: "narrow" });
    const save = async (ev) => {
      ev.preventDefault();
      const body = {};
      if (name.value !== item.name) body.name = name.value;
      if (Number(order.value) !== item.order) body.order = Number(order.value);
      if (!Object.keys(body).length) return refresh();
      await act(() => patch(path, body), `Saved ${body.name || item.name}`);
    };
    const cells = tr.children.length;
    clear(tr, h("td", { colspan: String(cells) },
      h("form", { class: "inline-form", onsubmit: save }, name, order,
        h("button", { type: "submit", class: "small primary" }, "Save"),
        h("button", { type: "button", class: "small", onclick: () => refresh() }, "Cancel"))));
    name.focus();
    name.select();
  }

  function groupSection(g, i) {
    const path = `${base}/groups/${seg(g.id)}`;
    const head = h("div", { class: "group-head" },
      h("h2", {}, g.name, " ", badge(`order ${g.order}`), " ", h("code", { class: "muted small" }, g.id)),
      h("span", { class: "row-actions" },
        h("button", { type: "button", class: "small icon", title: "Move group up", "aria-label": `Move group ${g.name} up`, disabled: i === 0,
          onclick: () => move(state.groups, i, -1, (x) => `${base}/groups/${seg(x.id)}`) }, "↑"),
        h("button", { type: "button", class: "small icon", title: "Move group down", "aria-label": `Move group ${g.name} down`, disabled: i === state.groups.length - 1,
          onclick: () => move(state.groups, i, 1, (x) => `${base}/groups/${seg(x.id)}`) }, "↓"),
        h("button", { type: "button", class: "small", onclick: () => editGroup(head, g, path) }, "Edit group"),
        confirmButton("Delete group", "Delete group and its tags?", () => act(() => del(path), `Deleted group ${g.name}`))));
    return h("section", { class: "card group", dataset: { group: g.name } }, head, tagRows(g.tags, true));
  }

  function editGroup(head, g, path) {
    const name = h("input", { type: "text", value: g.name, "aria-label": "Group name" });
    const order = h("input", { type: "number", value: String(g.order), "aria-label": "Group order", class: "narrow" });
    clear(head, h("form", { class: "inline-form", onsubmit: async (ev) => {
      ev.preventDefault();
      await act(() => patch(path, { name: name.value, order: Number(order.value) }), `Saved group ${name.value}`);
    } }, name, order, h("button", { type: "submit", class: "small primary" }, "Save"),
    h("button", { type: "button", class: "small", onclick: () => refresh() }, "Cancel")));
    name.focus();
  }

  function ungroupedSection() {
    const loose = state.tags.filter((t) => !t.group);
    if (grouped() && !loose.length) return null;
    return h("section", { class: "card group", dataset: { group: "" } },
      h("div", { class: "group-head" }, h("h2", {}, grouped() ? "Tags outside any group" : "Tags")), tagRows(loose, false));
  }

  function tagForm() {
    const name = h("input", { type: "text", placeholder: "New tag name", "aria-label": "New tag name", required: true, class: "grow" });
    const group = h("select", { "aria-label": "Group of the new tag" }, h("option", { value: "" }, "No group"),
      state.groups.map((g) => h("option", { value: g.id }, g.name)));
    const order = h("input", { type: "number", value: "0", "aria-label": "New tag order", class: "narrow", title: "Order (larger first)" });
    return h("form", { class: "inline-form", onsubmit: async (ev) => {
      ev.preventDefault();
      const body = { name: name.value, order: Number(order.value) };
      if (group.value) body.group = group.value;
      if (await act(() => post(`${base}/tags`, body), `Created tag ${body.name}`)) name.value = "";
    } }, h("strong", { class: "form-label" }, "New tag"), name, grouped() ? group : null, order,
    h("button", { type: "submit", class: "primary" }, "Create tag"));
  }

  function groupForm() {
    const name = h("input", { type: "text", placeholder: "New group name", "aria-label": "New group name", required: true });
    const first = h("input", { type: "text", placeholder: "Its first tag", "aria-label": "First tag of the group", required: true });
    const order = h("input", { type: "number", value: "0", "aria-label": "New group order", class: "narrow" });
    return h("form", { class: "inline-form", onsubmit: async (ev) => {
      ev.preventDefault();
      const body = { name: name.value, order: Number(order.value), tags: [{ name: first.value }] };
      if (await act(() => post(`${base}/groups`, body), `Created group ${body.name}`)) { name.value = ""; first.value = ""; }
    } }, h("strong", { class: "form-label" }, "New group"), name, first, order,
    h("button", { type: "submit" }, "Create group"));
  }

  const forms = h("section", { class: "card forms" });
  slot.append(h("div", { class: "split" }, forms, chart), err, lists);
  await refresh();
}

// The largest tags by members, as CSS bars (width set through the CSSOM: CSP-safe).
function drawChart(el, tags, appName) {
  const top = [...tags].filter((t) => t.count > 0).sort((a, b) => b.count - a.count).slice(0, 8);
  const max = Math.max(1, ...top.map((t) => t.count));
  clear(el, h("h2", {}, "Largest tags"), top.length
    ? h("ol", { class: "bars", "aria-label": "Largest tags by members" }, top.map((t) => {
      const fill = h("span", { class: "bar-fill" });
      fill.style.width = `${Math.max(2, (100 * t.count) / max)}%`;
      return h("li", { class: "bar-row" },
        h("a", { class: "bar-label", href: `#/apps/${seg(appName)}/tags/${seg(t.id)}`, title: t.name }, t.name),
        h("span", { class: "bar-track" }, fill), h("span", { class: "bar-value" }, num(t.count)));
    }))
    : h("p", { class: "muted empty-note" }, "No tag has members yet."));
}
