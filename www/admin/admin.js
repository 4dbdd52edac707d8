// The guestpass console: users, providers and signing keys, through the admin API (`/api/admin`).
//
// The admin key is kept in sessionStorage (this tab only, never localStorage) and sent as
// `Authorization: Bearer <key>`. body[data-state]: `locked` (key form) or `open`;
// body[data-view]: `users`, `user` (one user and its sessions), `providers`, `provider` or `keys`.

const KEY_STORAGE = "guestpass-admin-key";
const PER_PAGE = 25;
const $ = (id) => document.getElementById(id);

let adminKey = sessionStorage.getItem(KEY_STORAGE) || "";
let providers = [];

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

class AdminError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function adminFetch(path, { method = "GET", body, key = adminKey } = {}) {
  const headers = { Accept: "application/json", Authorization: `Bearer ${key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(`/api/admin${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new AdminError(`The server could not be reached (${error.message}).`, "NetworkError", 0);
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    throw new AdminError(data?.error || `The server answered ${response.status}.`, data?.error_code || `HTTP ${response.status}`, response.status);
  }
  return data;
}

/** A refused key locks the console again, with the reason. */
function handle(error) {
  console.error(error);
  if (error.code === "InvalidAdminKey") {
    lock("The server no longer accepts this key (InvalidAdminKey). Enter the current admin key.");
    return;
  }
  banner(`${error.message} (${error.code})`, "error");
}

// ---------------------------------------------------------------------------------------------
// Formatting

const dateTime = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric" });
const day = (secs) => (secs ? dayFormat.format(new Date(secs * 1000)) : "—");
const absolute = (secs) => (secs ? dateTime.format(new Date(secs * 1000)) : "—");

function relative(secs) {
  if (!secs) return "—";
  const diff = Math.round(Date.now() / 1000 - secs);
  const ahead = diff < 0;
  const d = Math.abs(diff);
  const [n, unit] =
    d < 45 ? [0, "now"] : d < 3600 ? [Math.round(d / 60), "min"] : d < 86400 ? [Math.round(d / 3600), "h"] : [Math.round(d / 86400), "d"];
  if (unit === "now") return "just now";
  return ahead ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

const providerNames = { "anon-user": "Anonymous", "local-userpass": "Email/Password", "custom-token": "Custom JWT", passkey: "Passkeys" };

const providerAbout = {
  "anon-user":
    "Lets people use the app without giving any credentials: each browser gets a user with an id and no other data. " +
    "Readers can later link an email and password to keep that user. When disabled, no new anonymous users can log in " +
    "(the page says there is no anonymous provider); existing sessions keep working.",
  "local-userpass": "Lets people register and log in with an email address and a password, or link them to an anonymous user.",
  "custom-token": "Lets people log in with a JWT issued by your own backend (needs --custom-jwt-secret or --custom-jwt-public-key).",
  passkey:
    "Lets a signed-in (even anonymous) user link a passkey, and sign back in with it on any device that has it, naming no " +
    "user. Pages may use it from the origins given by --passkey-origin. When disabled, no passkey can be linked or used; " +
    "existing sessions keep working.",
};

let bannerTimer = null;
function banner(text, kind = "ok") {
  const el = $("banner");
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(bannerTimer);
  if (kind === "ok") bannerTimer = setTimeout(() => (el.hidden = true), 8000);
}

// ---------------------------------------------------------------------------------------------
// Key entry

function lock(message = "") {
  adminKey = "";
  sessionStorage.removeItem(KEY_STORAGE);
  document.body.dataset.state = "locked";
  $("shell").hidden = true;
  $("gate").hidden = false;
  $("key-error").textContent = message;
  $("key-error").hidden = !message;
  $("admin-key").value = "";
  $("admin-key").focus();
}

function unlock() {
  document.body.dataset.state = "open";
  $("gate").hidden = true;
  $("shell").hidden = false;
  route();
}

$("key-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const key = $("admin-key").value.trim();
  $("key-error").hidden = true;
  if (!key) {
    $("key-error").textContent = "Enter the admin key.";
    $("key-error").hidden = false;
    return;
  }
  $("key-submit").disabled = true;
  try {
    await adminFetch("/providers", { key });
    adminKey = key;
    sessionStorage.setItem(KEY_STORAGE, key);
    $("admin-key").value = "";
    unlock();
  } catch (error) {
    $("key-error").textContent =
      error.code === "InvalidAdminKey"
        ? "Wrong admin key: the server refused it (InvalidAdminKey). Use the value of --admin-key, or the generated key file the server logged at start-up."
        : `${error.message} (${error.code})`;
    $("key-error").hidden = false;
    $("admin-key").select();
  } finally {
    $("key-submit").disabled = false;
  }
});

$("lock").addEventListener("click", () => lock());

// ---------------------------------------------------------------------------------------------
// Routing

function parseRoute() {
  const hash = location.hash.replace(/^#/, "") || "/users";
  const [path, query = ""] = hash.split("?");
  const params = new URLSearchParams(query);
  const provider = path.match(/^\/providers\/([A-Za-z0-9_-]+)$/);
  if (provider) return { view: "provider", name: provider[1] };
  const user = path.match(/^\/users\/([^/]+)$/);
  if (user) return { view: "user", id: decodeURIComponent(user[1]) };
  if (path === "/providers") return { view: "providers" };
  if (path === "/keys") return { view: "keys" };
  return { view: "users", page: Math.max(1, parseInt(params.get("page") || "1", 10) || 1) };
}

async function route() {
  if (document.body.dataset.state !== "open") return;
  const r = parseRoute();
  document.body.dataset.view = r.view;
  const tab = r.view === "user" ? "users" : r.view === "provider" ? "providers" : r.view;
  for (const link of document.querySelectorAll(".tabs a")) {
    const current = link.dataset.tab === tab;
    link.setAttribute("aria-selected", String(current));
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  $("users-view").hidden = r.view !== "users";
  $("user-view").hidden = r.view !== "user";
  $("providers-view").hidden = r.view !== "providers";
  $("provider-view").hidden = r.view !== "provider";
  $("keys-view").hidden = r.view !== "keys";
  if (r.view === "users") await loadUsers(r.page);
  else if (r.view === "user") await openUser(r.id);
  else if (r.view === "providers") await loadProviders();
  else if (r.view === "keys") await loadKeys();
  else await openProvider(r.name);
}

window.addEventListener("hashchange", route);

// ---------------------------------------------------------------------------------------------
// Users

let currentPage = 1;

async function loadUsers(page = currentPage) {
  currentPage = page;
  const body = $("users-body");
  body.setAttribute("aria-busy", "true");
  try {
    const data = await adminFetch(`/users?page=${page}&per_page=${PER_PAGE}`);
    const pages = Math.max(1, Math.ceil(data.total / data.per_page));
    if (data.users.length === 0 && page > 1 && page > pages) {
      location.hash = `#/users?page=${pages}`;
      return;
    }
    body.replaceChildren(...(data.users.length ? data.users.map(userRow) : [emptyRow(7, "No users yet. Open the reader to get a guest.")]));
    const from = data.total === 0 ? 0 : (page - 1) * data.per_page + 1;
    const to = (page - 1) * data.per_page + data.users.length;
    $("users-count").textContent = `${data.total} user${data.total === 1 ? "" : "s"}`;
    $("page-info").textContent = data.total ? `${from}–${to} of ${data.total} · page ${page} of ${pages}` : "";
    $("prev").disabled = page <= 1;
    $("next").disabled = page >= pages;
  } catch (error) {
    handle(error);
  } finally {
    body.removeAttribute("aria-busy");
  }
}

function emptyRow(cols, text) {
  return h("tr", { class: "empty" }, h("td", { colspan: String(cols) }, text));
}

function pill(text, kind) {
  return h("span", { class: `pill ${kind}` }, text);
}

function userRow(user) {
  const email = user.data && typeof user.data === "object" ? user.data.email : null;
  const identities = (user.identities || []).map((i) => providerNames[i.provider_type] || i.provider_type);
  const disableButton = h("button", {
      type: "button",
      class: "small",
      "data-testid": user.disabled ? "enable-user" : "disable-user",
      onclick: () => setDisabled(user, !user.disabled),
    },
    user.disabled ? "Enable" : "Disable",
  );
  const sessionsLink = h("a", { class: "button small", href: `#/users/${encodeURIComponent(user.id)}`, "data-testid": "user-sessions" }, "Sessions");
  const deleteButton = h("button", { type: "button", class: "small danger", "data-testid": "delete-user", onclick: () => deleteUser(user) }, "Delete");
  return h("tr", { "data-testid": "user-row", "data-user-id": user.id, class: user.disabled ? "disabled" : "" },
    h("td", { "data-label": "User id" }, h("code", { class: "id", title: user.id }, user.id), email ? h("div", { class: "email", title: email }, email) : null),
    h("td", { "data-label": "Type" }, user.is_anonymous ? pill("Anonymous", "anon") : pill("Member", "member")),
    h("td", { "data-label": "Identities" }, identities.length ? identities.join(", ") : "—"),
    h("td", { "data-label": "Created" }, h("time", { title: absolute(user.created_at) }, day(user.created_at))),
    h("td", { "data-label": "Last active" },
      h("div", {},
        h("time", { title: absolute(user.last_active_at) }, relative(user.last_active_at)),
        user.expires_at ? h("div", { class: "muted small-text", title: `Deleted if inactive until ${absolute(user.expires_at)}` }, `expires ${relative(user.expires_at)}`) : null,
      ),
    ),
    h("td", { "data-label": "Status" }, user.disabled ? pill("Disabled", "off") : pill("Active", "on")),
    h("td", { class: "row-actions" }, sessionsLink, disableButton, deleteButton),
  );
}

async function setDisabled(user, disabled) {
  try {
    await adminFetch(`/users/${user.id}/${disabled ? "disable" : "enable"}`, { method: "POST" });
    banner(disabled ? `User ${user.id} is disabled: its sessions ended and it cannot log in.` : `User ${user.id} is enabled again.`);
    await loadUsers();
  } catch (error) {
    handle(error);
  }
}

async function deleteUser(user) {
  const what = user.is_anonymous ? "this anonymous user" : `this user${user.data?.email ? ` (${user.data.email})` : ""}`;
  if (!confirm(`Delete ${what}?\n\n${user.id}\n\nIts identities and sessions are deleted and it cannot log in again. What it wrote (comments, reading-list rows) stays.`)) return;
  try {
    await adminFetch(`/users/${user.id}`, { method: "DELETE" });
    banner(`User ${user.id} was deleted.`);
    await loadUsers();
  } catch (error) {
    handle(error);
  }
}

// ---------------------------------------------------------------------------------------------
// Finding a user, its sessions

// The query goes in a POST body, never in the URL: emails stay out of proxies' logs.
const findUser = (query) => adminFetch("/users/find", { method: "POST", body: { query } });

$("find-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const query = $("find-query").value.trim();
  if (!query) return;
  try {
    const user = await findUser(query);
    location.hash = `#/users/${encodeURIComponent(user.id)}`;
  } catch (error) {
    if (error.code === "UserNotFound") banner(`No user has the id or email “${query}”.`, "error");
    else handle(error);
  }
});

async function openUser(id) {
  let user, sessions, passkeys;
  try {
    user = await findUser(id);
    sessions = (await adminFetch(`/users/${encodeURIComponent(user.id)}/sessions`)).sessions || [];
    passkeys = (await adminFetch(`/users/${encodeURIComponent(user.id)}/passkeys`)).passkeys || [];
  } catch (error) {
    if (error.code === "UserNotFound") {
      banner(`There is no user ${id} (any more).`, "error");
      location.hash = "#/users";
    } else handle(error);
    return;
  }
  const email = user.data && typeof user.data === "object" ? user.data.email : null;
  $("user-title").textContent = email || (user.is_anonymous ? "Anonymous user" : "User");
  $("user-facts").replaceChildren(
    h("dt", {}, "User id"), h("dd", {}, h("code", { "data-testid": "user-id" }, user.id)),
    h("dt", {}, "Type"), h("dd", {}, user.is_anonymous ? "Anonymous" : "Member"),
    h("dt", {}, "Created"), h("dd", {}, absolute(user.created_at)),
    h("dt", {}, "Last active"), h("dd", {}, absolute(user.last_active_at)),
    h("dt", {}, "Status"), h("dd", {}, user.disabled ? "Disabled" : "Active"),
  );
  $("sessions-body").replaceChildren(
    ...(sessions.length
      ? sessions.map((s) =>
          h("tr", { "data-testid": "session-row", "data-session-id": s.id },
            h("td", { "data-label": "Session" }, h("code", { class: "id" }, s.id)),
            h("td", { "data-label": "Device" }, h("code", { class: "id" }, s.device_id)),
            h("td", { "data-label": "Created" }, h("time", { title: absolute(s.created_at) }, relative(s.created_at))),
            h("td", { "data-label": "Last used" }, h("time", { title: absolute(s.last_used_at) }, relative(s.last_used_at))),
            h("td", { class: "row-actions" },
              h("button", { type: "button", class: "small danger", "data-testid": "revoke-session", onclick: () => revokeSession(user, s) }, "Revoke")),
          ))
      : [emptyRow(5, "No sessions: this user is signed in nowhere.")]),
  );
  $("passkeys-body").replaceChildren(
    ...(passkeys.length
      ? passkeys.map((p) =>
          h("tr", { "data-testid": "passkey-row", "data-credential-id": p.credential_id },
            h("td", { "data-label": "Credential" }, h("code", { class: "id" }, p.credential_id)),
            h("td", { "data-label": "Created" }, h("time", { title: absolute(p.created_at) }, relative(p.created_at))),
            h("td", { "data-label": "Last used" }, p.last_used_at ? h("time", { title: absolute(p.last_used_at) }, relative(p.last_used_at)) : "Never"),
            h("td", { "data-label": "Synced" }, p.backup_state ? "Yes" : p.backup_eligible ? "Can be" : "No"),
            h("td", { class: "row-actions" },
              h("button", { type: "button", class: "small danger", "data-testid": "remove-passkey", onclick: () => removePasskey(user, p) }, "Remove")),
          ))
      : [emptyRow(5, "No passkeys.")]),
  );
}

async function removePasskey(user, passkey) {
  if (!confirm(`Remove passkey ${passkey.credential_id}?\n\nIt can no longer sign in to this user.`)) return;
  try {
    await adminFetch(`/users/${encodeURIComponent(user.id)}/passkeys/${encodeURIComponent(passkey.credential_id)}`, { method: "DELETE" });
    banner(`Passkey ${passkey.credential_id} was removed.`);
    await openUser(user.id);
  } catch (error) {
    handle(error);
  }
}

async function revokeSession(user, session) {
  const more = user.is_anonymous ? "\n\nThis user is anonymous: it is deleted with its session." : "";
  if (!confirm(`Revoke session ${session.id} (device ${session.device_id})?\n\nIts refresh token is refused from now on.${more}`)) return;
  try {
    await adminFetch(`/users/${encodeURIComponent(user.id)}/sessions/${encodeURIComponent(session.id)}`, { method: "DELETE" });
    banner(user.is_anonymous ? `Session revoked; the anonymous user ${user.id} was deleted with it.` : `Session ${session.id} was revoked.`);
    if (user.is_anonymous) location.hash = "#/users";
    else await openUser(user.id);
  } catch (error) {
    handle(error);
  }
}

$("prev").addEventListener("click", () => (location.hash = `#/users?page=${Math.max(1, currentPage - 1)}`));
$("next").addEventListener("click", () => (location.hash = `#/users?page=${currentPage + 1}`));
$("users-refresh").addEventListener("click", () => loadUsers());

// ---------------------------------------------------------------------------------------------
// Providers

async function fetchProviders() {
  const data = await adminFetch("/providers");
  providers = data.providers || [];
  return providers;
}

function statusPill(p) {
  if (!p.configured) return pill(p.enabled ? "Enabled · not configured" : "Not configured", "off");
  return p.enabled ? pill("Enabled", "on") : pill("Disabled", "off");
}

async function loadProviders() {
  try {
    await fetchProviders();
    $("providers-body").replaceChildren(
      ...providers.map((p) =>
        h("tr", { "data-testid": "provider-row", "data-provider": p.name },
          h("td", { "data-label": "Provider" },
            h("strong", { class: "provider-label", "data-testid": "provider-label" }, p.label),
            h("div", { class: "muted small-text" }, providerNames[p.type] || p.type)),
          h("td", { "data-label": "Name" }, h("code", {}, p.name)),
          h("td", { "data-label": "Status", "data-testid": "provider-status-cell" }, statusPill(p)),
          h("td", { class: "row-actions" },
            h("a", { class: "button small", href: `#/providers/${p.name}`, "data-testid": `edit-${p.name}`, "aria-label": `Edit ${p.label}` }, "Edit")),
        ),
      ),
    );
  } catch (error) {
    handle(error);
  }
}

function paintSwitch() {
  const on = $("provider-status").checked;
  $("provider-status-text").textContent = on ? "Enabled" : "Disabled";
}

$("provider-status").addEventListener("change", paintSwitch);

let editing = null;

async function openProvider(name) {
  $("provider-error").hidden = true;
  try {
    await fetchProviders();
  } catch (error) {
    handle(error);
    return;
  }
  editing = providers.find((p) => p.name === name);
  if (!editing) {
    banner(`There is no provider named “${name}”.`, "error");
    location.hash = "#/providers";
    return;
  }
  $("provider-title").textContent = editing.label;
  $("provider-about").textContent = providerAbout[editing.type] || "";
  $("provider-status").checked = editing.enabled;
  $("provider-status-hint").textContent = editing.configured
    ? "Takes effect at once for new logins, without a restart, and is kept across restarts."
    : "This provider is not configured on the server, so logins with it fail even when enabled.";
  $("provider-facts").replaceChildren(
    h("dt", {}, "Name"), h("dd", {}, h("code", {}, editing.name)),
    h("dt", {}, "Type"), h("dd", {}, h("code", {}, editing.type)),
    h("dt", {}, "Configured"), h("dd", {}, editing.configured ? "Yes" : "No"),
  );
  paintSwitch();
  $("provider-status").focus();
}

$("provider-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!editing) return;
  const enabled = $("provider-status").checked;
  $("provider-save").disabled = true;
  $("provider-error").hidden = true;
  try {
    const saved = await adminFetch(`/providers/${editing.name}`, { method: "PUT", body: { enabled } });
    banner(`Saved: “${saved.label}” is now ${saved.enabled ? "enabled" : "disabled"}. New logins see the change at once.`);
    location.hash = "#/providers";
  } catch (error) {
    if (error.code === "InvalidAdminKey") handle(error);
    else {
      $("provider-error").textContent = `${error.message} (${error.code})`;
      $("provider-error").hidden = false;
    }
  } finally {
    $("provider-save").disabled = false;
  }
});

// ---------------------------------------------------------------------------------------------
// Signing keys

const keyStates = { signing: ["Signing", "on"], next: ["Next", "off"], retired: ["Retired · published", "off"], expired: ["Expired", "off"] };

async function loadKeys() {
  try {
    const data = await adminFetch("/signing-keys");
    $("keys-rotate").disabled = data.managed_outside;
    $("keys-body").replaceChildren(
      ...data.keys.map((k) =>
        h("tr", { "data-testid": "key-row", "data-kid": k.kid || "", "data-state": k.state },
          h("td", { "data-label": "Key id" }, h("code", {}, k.kid || "(HS256 secret)")),
          h("td", { "data-label": "Algorithm" }, k.algorithm),
          h("td", { "data-label": "Signs from" }, k.signs_from ? new Date(k.signs_from * 1000).toLocaleString() : "—"),
          h("td", { "data-label": "State" }, pill(...(keyStates[k.state] || [k.state, "off"])))),
      ),
    );
    if (data.managed_outside) banner("GUESTPASS_SIGNING_KEY is set: the key is managed outside this server.");
  } catch (error) {
    handle(error);
  }
}

$("keys-rotate").addEventListener("click", async () => {
  $("keys-rotate").disabled = true;
  try {
    const key = await adminFetch("/signing-keys", { method: "POST", body: {} });
    banner(`New signing key ${key.kid}; the previous key stays published until its tokens expire.`);
    await loadKeys();
  } catch (error) {
    handle(error);
  } finally {
    $("keys-rotate").disabled = false;
  }
});

// ---------------------------------------------------------------------------------------------

if (adminKey) {
  // Check the remembered key before showing anything.
  adminFetch("/providers")
    .then(unlock)
    .catch((error) => (error.code === "InvalidAdminKey" ? lock("The key kept in this tab was refused; enter it again.") : (unlock(), handle(error))));
} else {
  lock();
}
