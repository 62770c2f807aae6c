// Apps: the list (dialect, subjects, tags; search by name), the sidebar's shortcuts, and the
// header with tabs every per-app page shares.

import { appPath, get, seg } from "./api.js";
import { clear, dialectBadge, h, num, pageHeader, table } from "./ui.js";

export const appHref = (app, tab = "tags") => `#/apps/${seg(app)}/${tab}`;

export async function appsView(slot) {
  const search = h("input", { type: "search", placeholder: "Search apps by name…", "aria-label": "Search apps", class: "search" });
  const area = h("div", {});
  slot.append(pageHeader("Apps", "Every app this server holds, whatever its dialect."), h("div", { class: "toolbar" }, search), area);
  const apps = await get("/v1/apps");
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = apps.filter((a) => a.name.toLowerCase().includes(q));
    clear(area, table([
      { title: "App", cell: (a) => h("a", { href: appHref(a.name), class: "strong" }, a.name) },
      { title: "Dialect", cell: (a) => dialectBadge(a.dialect) },
      { title: "Subjects", cls: "num", cell: (a) => num(a.subjects) },
      { title: "Tags", cls: "num", cell: (a) => num(a.tags) },
      { title: "", cls: "actions-cell", cell: (a) => h("span", { class: "row-links" },
        h("a", { href: appHref(a.name, "subjects") }, "Subjects"),
        h("a", { href: appHref(a.name, "audience") }, "Audience"),
        h("a", { href: `#/journal?app=${seg(a.name)}` }, "Journal")) },
    ], shown, {
      empty: apps.length ? `No app matches “${search.value}”.` : "No apps yet: start polytag with --seed FILE or POST /v1/apps.",
      rowAttrs: (a) => ({ dataset: { app: a.name } }),
    }), h("p", { class: "muted small" }, `${num(shown.length)} of ${num(apps.length)} apps`));
  };
  search.addEventListener("input", draw);
  draw();
  search.focus();
}

export async function navApps(el) {
  try {
    const apps = await get("/v1/apps", { quiet401: true });
    clear(el, apps.length ? h("div", { class: "nav-title" }, "Apps") : null,
      h("ul", { class: "nav nav-sub" }, apps.slice(0, 12).map((a) =>
        h("li", {}, h("a", { href: appHref(a.name), title: `${a.name} (${a.dialect})` }, a.name)))));
  } catch (_) {
    clear(el);
  }
}

const TABS = [["tags", "Tags"], ["subjects", "Subjects"], ["audience", "Audience"]];

// Draws the app's header and tabs; answers the app (GET /v1/apps/{app}).
export async function appHeader(slot, name, active, crumb) {
  const app = await get(appPath(name));
  const summary = h("p", { class: "muted app-summary" }, summaryOf(app));
  const tabs = h("nav", { class: "tabs", "aria-label": "App sections" },
    TABS.map(([key, label]) => h("a", { href: appHref(name, key), class: key === active ? "active" : "" }, label)),
    h("a", { href: `#/journal?app=${seg(name)}` }, "Journal"));
  slot.append(
    h("div", { class: "crumbs" }, h("a", { href: "#/apps" }, "Apps"), " / ",
      crumb ? [h("a", { href: appHref(name) }, name), " / ", crumb] : name),
    h("header", { class: "page-head app-head" },
      h("div", {}, h("h1", {}, name, " ", dialectBadge(app.dialect)),
        summary)),
    tabs);
  return app;
}

const plural = (n, one) => `${num(n)} ${one}${n === 1 ? "" : "s"}`;

function summaryOf(app) {
  const l = app.limits;
  return `${plural(app.subjects, "subject")} · ${plural(app.tags, "tag")} · limits: ${num(l.tags_per_app)} tags, `
    + `${num(l.tags_per_subject)} per subject, names up to ${num(l.tag_name_max)} ${l.tag_name_unit}`;
}

// Redraws the counts in the header after a change.
export async function refreshSummary(slot, name) {
  const el = slot.querySelector(".app-summary");
  if (el) el.textContent = summaryOf(await get(appPath(name)));
}
