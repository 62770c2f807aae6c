// Members: a tag's members and the app's subjects paged by keyset cursor, and one subject's
// page with its tags (add and remove through /v1/apps/{app}/memberships/add|remove).

import { appPath, get, post, query, seg } from "./api.js";
import { appHeader } from "./apps.js";
import { clear, errorSlot, flash, h, num, pager, table, when } from "./ui.js";

const PAGE = 50;
const subjectHref = (app, s) => `#/apps/${seg(app)}/subjects/${seg(s)}`;

// Subject ids may hold tabs (a member-customer pair: "member\tunionId"): shown with a visible separator.
export const showId = (s) => String(s).replace(/\t/g, " ⇥ ");

export function subjectList(appName, items) {
  return table([
    { title: "Subject", cell: (s) => h("a", { href: subjectHref(appName, s), class: "mono" }, showId(s)) },
  ], items.map((s) => s), { empty: "No members.", rowAttrs: (s) => ({ dataset: { subject: s } }) });
}

function findSubject(appName) {
  const input = h("input", { type: "search", placeholder: "Subject id (openid, account, member⇥unionId)…", "aria-label": "Subject id", class: "grow" });
  return h("form", { class: "inline-form", onsubmit: (ev) => {
    ev.preventDefault();
    const id = input.value.trim().replace(/ ⇥ /g, "\t");
    if (id) location.hash = subjectHref(appName, id);
  } }, input, h("button", { type: "submit" }, "Open subject"));
}

export async function subjectsView(slot, appName) {
  await appHeader(slot, appName, "subjects");
  const list = pager((cursor) => get(`${appPath(appName)}/subjects${query({ cursor, limit: PAGE })}`),
    (items) => subjectList(appName, items), { label: "subjects" });
  slot.append(h("section", { class: "card" }, findSubject(appName)), h("section", { class: "card" }, h("h2", {}, "Subjects"), list));
  await list.reload();
}

export async function tagMembersView(slot, appName, tagKey) {
  const base = appPath(appName);
  const tag = await get(`${base}/tags/${seg(tagKey)}`);
  await appHeader(slot, appName, "tags", tag.name);
  const err = errorSlot();
  const list = pager((cursor) => get(`${base}/tags/${seg(tag.id)}/members${query({ cursor, limit: PAGE })}`),
    (items) => subjectList(appName, items), { label: "members" });
  const input = h("input", { type: "text", placeholder: "Subject id to tag", "aria-label": "Subject to tag", class: "grow" });
  const add = h("form", { class: "inline-form", onsubmit: async (ev) => {
    ev.preventDefault();
    err.show(null);
    try {
      const got = await post(`${base}/memberships/add`, { pairs: [{ subject: input.value.trim(), tag: tag.id }] });
      flash(got.changed ? `Tagged ${input.value}` : `${input.value} already had the tag`);
      input.value = "";
      await list.reload();
    } catch (e) { err.show(e); }
  } }, h("strong", { class: "form-label" }, "Tag a subject"), input, h("button", { type: "submit", class: "primary" }, "Add"));
  slot.append(
    h("section", { class: "card" },
      h("h2", {}, "Tag ", h("span", { class: "tag-chip" }, tag.name)),
      h("dl", { class: "facts" },
        h("dt", {}, "Id"), h("dd", {}, h("code", {}, tag.id)),
        h("dt", {}, "Group"), h("dd", {}, tag.group ? h("code", {}, tag.group) : "–"),
        h("dt", {}, "Order"), h("dd", {}, String(tag.order)),
        h("dt", {}, "Members"), h("dd", {}, num(tag.count)),
        h("dt", {}, "Version"), h("dd", {}, String(tag.version))),
      add, err),
    h("section", { class: "card" }, h("h2", {}, "Members"), list));
  await list.reload();
}

export async function subjectView(slot, appName, subject) {
  const base = appPath(appName);
  await appHeader(slot, appName, "subjects", showId(subject));
  const err = errorSlot();
  const body = h("div", {});
  const allTags = await get(`${base}/tags`);

  async function change(kind, tag) {
    err.show(null);
    try {
      await post(`${base}/memberships/${kind}`, { pairs: [{ subject, tag }] });
      flash(kind === "add" ? "Tag added" : "Tag removed");
      await draw();
    } catch (e) { err.show(e); }
  }

  async function draw() {
    const s = await get(`${base}/subjects/${seg(subject)}`);
    const mine = new Set(s.tags.map((t) => t.id));
    const choice = h("select", { "aria-label": "Tag to add" },
      allTags.filter((t) => !mine.has(t.id)).map((t) => h("option", { value: t.id }, t.name)));
    clear(body,
      h("h2", {}, "Subject ", h("span", { class: "mono" }, showId(s.id))),
      h("dl", { class: "facts" },
        h("dt", {}, "Created"), h("dd", {}, when(s.created_at)),
        Object.entries(s.props || {}).map(([k, v]) => [h("dt", {}, k), h("dd", {}, h("code", {}, JSON.stringify(v)))])),
      h("h3", {}, `Tags (${s.tags.length})`),
      s.tags.length
        ? h("ul", { class: "chips", "aria-label": "Tags of this subject" }, s.tags.map((t) => h("li", { class: "tag-chip", dataset: { tag: t.name } },
          h("a", { href: `#/apps/${seg(appName)}/tags/${seg(t.id)}` }, t.name),
          h("button", { type: "button", class: "chip-x", title: `Remove ${t.name}`, "aria-label": `Remove ${t.name}`,
            onclick: () => change("remove", t.id) }, "×"))))
        : h("p", { class: "muted empty-note" }, "This subject has no tags."),
      h("form", { class: "inline-form", onsubmit: (ev) => { ev.preventDefault(); if (choice.value) change("add", choice.value); } },
        h("strong", { class: "form-label" }, "Add a tag"), choice,
        h("button", { type: "submit", class: "primary", disabled: !choice.options.length }, "Add tag")));
  }
  await draw();  // an unknown subject throws here: the problem is shown instead of an empty card
  slot.append(h("section", { class: "card" }, body, err));
}
