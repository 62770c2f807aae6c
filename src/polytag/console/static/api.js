// The HTTP edge: the admin key (sessionStorage, sent as a Bearer header, never in a URL) and
// errors as data: problem+json ({title, detail, ...}) from /v1, {error} from /_polytag.

const KEY = "polytag.adminKey";

export const session = {
  keyRequired: false,
  get key() { return sessionStorage.getItem(KEY) || ""; },
  set key(value) {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

function headers(extra) {
  const h = { Accept: "application/json", ...extra };
  if (session.key) h.Authorization = `Bearer ${session.key}`;
  return h;
}

async function problemOf(resp) {
  const text = await resp.text();
  try {
    const doc = JSON.parse(text);
    if (doc && typeof doc === "object") {
      if (doc.title || doc.detail) return doc;
      if (doc.error) return { title: `Error ${resp.status}`, detail: String(doc.error), status: resp.status };
    }
  } catch (_) { /* not JSON: fall through */ }
  return { title: `HTTP ${resp.status} ${resp.statusText}`, detail: text.slice(0, 500), status: resp.status };
}

export let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

// Performs a request and answers the decoded JSON (null for 204); throws ApiError otherwise.
export async function call(method, path, body, { raw = false, accept, quiet401 = false } = {}) {
  const init = { method, headers: headers(accept ? { Accept: accept } : {}), cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (exc) {
    throw new ApiError(0, { title: "Network error", detail: `The server did not answer (${exc.message}).` });
  }
  if (!resp.ok) {
    const problem = await problemOf(resp);
    if (resp.status === 401 && !quiet401) onUnauthorized(problem);
    throw new ApiError(resp.status, problem);
  }
  if (raw) return resp;
  if (resp.status === 204) return null;
  return resp.json();
}

export const get = (path, opts) => call("GET", path, undefined, opts);
export const post = (path, body, opts) => call("POST", path, body, opts);
export const patch = (path, body) => call("PATCH", path, body);
export const del = (path) => call("DELETE", path);

// Path segment escaping: app names, tag ids and subject ids may hold any character.
export const seg = (s) => encodeURIComponent(String(s));
export const appPath = (app) => `/v1/apps/${seg(app)}`;

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}
