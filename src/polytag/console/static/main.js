// Boot and routing: ask /console/session whether a key is needed, sign in, then draw the view
// the location hash names (#/apps, #/apps/APP/tags, #/journal, ...).

import { ApiError, get, session, setUnauthorizedHandler } from "./api.js";
import { appsView, navApps } from "./apps.js";
import { audienceView } from "./audience.js";
import { callbacksView } from "./callbacks.js";
import { faultsView, journalView } from "./journal.js";
import { subjectsView, subjectView, tagMembersView } from "./members.js";
import { sendsView } from "./sends.js";
import { tagsView } from "./tags.js";
import { clear, h, problemBox, rememberHints } from "./ui.js";

const $ = (id) => document.getElementById(id);

const ROUTES = [
  [/^apps$/, () => appsView],
  [/^apps\/([^/]+)$/, () => tagsView],
  [/^apps\/([^/]+)\/tags$/, () => tagsView],
  [/^apps\/([^/]+)\/tags\/([^/]+)$/, () => tagMembersView],
  [/^apps\/([^/]+)\/subjects$/, () => subjectsView],
  [/^apps\/([^/]+)\/subjects\/([^/]+)$/, () => subjectView],
  [/^apps\/([^/]+)\/audience$/, () => audienceView],
  [/^journal$/, () => journalView],
  [/^faults$/, () => faultsView],
  [/^sends$/, () => sendsView],
  [/^callbacks$/, () => callbacksView],
];

function route() {
  const path = location.hash.replace(/^#\/?/, "").split("?")[0] || "apps";
  for (const [re, view] of ROUTES) {
    const m = path.match(re);
    if (m) return { view: view(), params: m.slice(1).map(decodeURIComponent), section: path.split("/")[0] };
  }
  return { view: null, params: [], section: "" };
}

let hints = null; // the per-dialect hints, fetched once (a failure leaves the defaults)
async function draw() {
  hints = hints || get("/_polytag/health").then(rememberHints, () => null);
  await hints;
  const { view, params, section } = route();
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.classList.toggle("active", a.dataset.nav === section);
  }
  const slot = h("div", { class: "view-inner" });
  clear($("view"), slot);
  if (!view) {
    slot.append(h("h1", {}, "Not found"), h("p", {}, "No such page. ", h("a", { href: "#/apps" }, "Back to the apps.")));
    return;
  }
  try {
    await view(slot, ...params);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    slot.append(problemBox(err));
  }
}

function showSignIn(message) {
  $("shell").hidden = true;
  $("signin").hidden = false;
  const box = $("signin-error");
  box.hidden = !message;
  if (message) clear(box, problemBox(message));
  $("admin-key").value = "";
  $("admin-key").focus();
}

async function showShell() {
  $("signin").hidden = true;
  $("shell").hidden = false;
  $("sign-out").hidden = !session.keyRequired;
  $("whoami").textContent = session.keyRequired ? "Signed in with the admin key" : "Local access (no admin key)";
  navApps($("nav-apps"));
  await draw();
}

async function signIn(event) {
  event.preventDefault();
  const key = $("admin-key").value.trim();
  const button = event.submitter || $("signin-form").querySelector("button");
  button.disabled = true;
  session.key = key;
  try {
    await get("/v1/apps", { quiet401: true });
    await showShell();
  } catch (err) {
    session.key = "";
    const wrong = err instanceof ApiError && err.status === 401;
    showSignIn(wrong ? { problem: { title: "Wrong admin key", detail: "The server refused this key. Check it and try again." } } : err);
  } finally {
    button.disabled = false;
  }
}

async function boot() {
  $("signin-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => { session.key = ""; showSignIn(null); });
  setUnauthorizedHandler(() => {
    session.key = "";
    showSignIn({ problem: { title: "Signed out", detail: "The server refused the admin key; sign in again." } });
  });
  window.addEventListener("hashchange", () => { if (!$("shell").hidden) draw(); });
  try {
    const info = await (await fetch("/console/session", { cache: "no-store" })).json();
    session.keyRequired = Boolean(info.key_required);
  } catch (err) {
    document.body.append(problemBox({ problem: { title: "Console unavailable", detail: String(err) } }));
    return;
  }
  if (session.keyRequired && !session.key) showSignIn(null);
  else await showShell();
}

boot();
