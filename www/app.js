// The Margin: the guestpass demo blog reader.
//
// On the first visit the reader is signed in as a guest with no prompt. Articles, the reading
// list and comments come from the blog's own backend (`/api/blog` on this page's origin, see
// demo-backend/), always through `user.fetch`, which adds the user's access token; the backend
// verifies it with the auth server's keys and decides what a user may do. The auth server is
// another origin, named by the backend's `/config.json`.
//
// The page's state is mirrored on <body data-state="…"> so tests (and CSS) can follow it:
//   loading     – the SDK is starting or a sign-in is under way
//   ready       – signed in (guest or member); the user id is in #user-id, the view is drawn
//   no-provider – the server has no anonymous provider: no guest pass, sign in instead
//   signed-out  – the reader signed out; "Continue as guest" or sign in
//   error       – something failed; body[data-error-code] and #error-code/#error-message say what
// body[data-user-id] and body[data-anonymous] describe the signed-in user; body[data-view] the route.

let appId = document.querySelector('meta[name="guestpass-app-id"]')?.content || "guestpass-demo";
// The SDK's baseUrl: the auth server, as the backend's /config.json names it; without one, the
// page's own origin is taken for it.
let authUrl = location.origin;
const $ = (id) => document.getElementById(id);

const CONFIRM_GUEST_SIGN_OUT =
  "Sign out of your guest pass?\n\n" +
  "Your reading list will be lost. A guest's reading list is kept under this guest only: once " +
  "you sign out it cannot be recovered, not even by continuing as a guest again.\n\n" +
  'To take it with you, choose Cancel, then "Keep your reading list".';

let sdk = null; // the guestpass module: { App, Credentials }
let app = null; // the one App of the page
let providers = []; // the enabled providers, from the server
let articles = []; // article summaries, newest first
const readingList = new Map(); // slug -> {slug, title, saved, progress, updated_at}
let viewCleanup = null; // undoes what the current view set up (scroll listeners...)
let renderToken = 0; // a newer render cancels an older one still loading

// ---------------------------------------------------------------------------------------------
// Small helpers

/** Builds an element: h("a", {href: "#/"}, "text", child...). Text is always text, never HTML. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "text") el.textContent = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const dateFormat = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
const dateTimeFormat = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" });

function formatDay(isoDay) {
  const date = new Date(`${isoDay}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? isoDay : dateFormat.format(date);
}

function formatEpoch(seconds) {
  return dateTimeFormat.format(new Date(seconds * 1000));
}

const percent = (progress) => Math.round(Math.max(0, Math.min(1, progress || 0)) * 100);

function shortId(id) {
  return id ? `…${id.slice(-6)}` : "";
}

function errorText(error) {
  return error?.message || String(error);
}

function toast(message, kind = "info") {
  const el = $("toast");
  el.textContent = message;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.hidden = true), 4500);
}

const hasProvider = (type) => providers.some((p) => p && (p.type === type || p.name === type));

// ---------------------------------------------------------------------------------------------
// The blog API, always as the current user

class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
  }
}

async function api(path, { method = "GET", body } = {}) {
  const user = app?.currentUser;
  if (!user) throw new ApiError("You are not signed in.", "NotSignedIn", 401);
  const init = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    // The blog API is on this page's origin, not the auth server's: the SDK sends the token
    // there only when told to, per call.
    response = await user.fetch(`${location.origin}/api/blog${path}`, { ...init, sendTokenToOtherOrigins: true });
  } catch (error) {
    // A refused refresh (the session was ended on the server) rejects, and logs the user out.
    if (user.state !== "active") sessionEnded(user);
    throw error;
  }
  const data = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new ApiError(data?.error || `the server answered ${response.status}`, data?.error_code, response.status);
    if (response.status === 401 && user.state !== "active") sessionEnded(user);
    throw error;
  }
  return data;
}

async function loadArticles() {
  const data = await api("/articles");
  articles = Array.isArray(data?.articles) ? data.articles : [];
}

async function loadReadingList() {
  const data = await api("/reading-list");
  readingList.clear();
  for (const entry of data?.entries || []) readingList.set(entry.slug, entry);
  updateListCount();
}

function articleSummary(slug) {
  return articles.find((a) => a.slug === slug);
}

// ---------------------------------------------------------------------------------------------
// Page state and header

function setState(state, { error = null } = {}) {
  document.body.dataset.state = state;
  if (error) {
    const code = error.code ?? (error.status ? `HTTP ${error.status}` : error.name || "Error");
    document.body.dataset.errorCode = String(code);
  } else {
    delete document.body.dataset.errorCode;
  }
  updateHeader();
}

function updateHeader() {
  const state = document.body.dataset.state;
  const user = state === "ready" ? app?.currentUser : null;
  const guest = !!user && user.isAnonymous;
  const email = user && !guest ? user.profile?.email || "" : "";

  const status = {
    loading: "Signing you in…",
    "no-provider": "Guest reading is off",
    "signed-out": "Signed out",
    error: "Not signed in",
  }[state];
  $("status").textContent = user ? (guest ? "Reading as guest" : "Signed in as") : status || "";
  $("user-email").textContent = email || (user && !guest ? "member" : "");
  $("user-email").hidden = !user || guest;
  $("user-id").textContent = user ? user.id : "";
  $("user-id").dataset.short = user ? shortId(user.id) : "";
  $("user-id").title = user ? `Your user id: ${user.id}` : "";
  $("user-id").hidden = !guest;

  if (user) {
    document.body.dataset.userId = user.id;
    document.body.dataset.anonymous = String(guest);
  } else {
    delete document.body.dataset.userId;
    delete document.body.dataset.anonymous;
  }

  $("keep").hidden = !guest;
  $("sign-out").hidden = !user;
  $("sign-out").disabled = false;
  document.querySelector(".nav").hidden = !user;
  updateListCount();
}

function updateListCount() {
  const count = [...readingList.values()].filter((e) => e.saved).length;
  const el = $("list-count");
  el.textContent = String(count);
  el.hidden = count === 0 || document.body.dataset.state !== "ready";
}

function markNav(view) {
  for (const link of document.querySelectorAll(".nav a")) {
    const current = link.dataset.nav === view;
    if (current) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

// ---------------------------------------------------------------------------------------------
// Signing in and out

async function boot() {
  setState("loading");
  try {
    if (!sdk) {
      sdk = await import("/pkg/guestpass.js");
      await sdk.default();
      const config = await fetch("/config.json", { headers: { Accept: "application/json" } })
        .then((r) => (r.ok ? r.json() : null))
        .catch(() => null);
      if (config?.base_url) authUrl = config.base_url;
      if (config?.app_id) appId = config.app_id;
    }
  } catch (error) {
    showProblem(error, {
      title: "The reader could not start",
      text: "The guestpass SDK could not be loaded, so this page cannot sign you in.",
    });
    return;
  }
  try {
    app ??= new sdk.App({ id: appId, baseUrl: authUrl });
    const listed = await app.getAuthProviders();
    providers = Array.isArray(listed) ? listed : [];
    let user = app.currentUser;
    if (!user) {
      if (!hasProvider("anon-user")) {
        setState("no-provider");
        renderGate();
        return;
      }
      user = await app.logIn(sdk.Credentials.anonymous());
    }
    await resumeMerge();
    await enter(user);
  } catch (error) {
    if (error?.code === "AuthProviderNotFound") {
      // Switched off between the providers list and the login.
      providers = providers.filter((p) => p.type !== "anon-user" && p.name !== "anon-user");
      setState("no-provider");
      renderGate();
      return;
    }
    showProblem(error, {
      title: "Guest sign-in failed",
      text: "We could not give you a guest pass just now. Reload the page to try again.",
    });
  }
}

/** Shows the reader's articles and list once `user` is the current user. */
async function enter(user) {
  setState("loading");
  await Promise.all([loadArticles(), loadReadingList()]);
  document.body.dataset.state = "ready";
  updateHeader();
  await route();
}

function showProblem(error, { title, text }) {
  console.error(error);
  setState("error", { error });
  renderGate({ problem: { title, text, error } });
}

let endingSession = false;
function sessionEnded(user) {
  if (endingSession) return;
  endingSession = true;
  const wasGuest = user.isAnonymous;
  setTimeout(async () => {
    toast(
      wasGuest
        ? "Your guest session ended on the server, so you now have a new guest pass."
        : "Your session ended on the server. Sign in again to continue.",
      "warn",
    );
    endingSession = false;
    readingList.clear();
    if (wasGuest) await boot();
    else {
      setState("signed-out");
      renderGate();
    }
  }, 0);
}

async function signOut() {
  const user = app?.currentUser;
  if (!user) return;
  if (user.isAnonymous && !confirm(CONFIRM_GUEST_SIGN_OUT)) return;
  $("sign-out").disabled = true;
  try {
    await user.logOut();
  } catch (error) {
    // The user is signed out here all the same; the server's session expires on its own.
    console.warn("sign-out: the server could not be told", error);
  }
  readingList.clear();
  setState("signed-out");
  renderGate();
  location.hash = "#/";
  toast(user.isAnonymous ? "Signed out. That guest pass is gone." : "Signed out. Your reading list stays with your account.");
}

async function continueAsGuest() {
  setState("loading");
  try {
    const user = await app.logIn(sdk.Credentials.anonymous());
    await enter(user);
  } catch (error) {
    if (error?.code === "AuthProviderNotFound") {
      providers = providers.filter((p) => p.type !== "anon-user");
      setState("no-provider");
      renderGate();
      return;
    }
    showProblem(error, { title: "Guest sign-in failed", text: "Reload the page to try again." });
  }
}

// ---------------------------------------------------------------------------------------------
// Routing

function parseRoute() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const article = hash.match(/^\/article\/([a-z0-9-]+)\/?$/);
  if (article) return { view: "article", slug: article[1] };
  if (hash === "/reading-list") return { view: "reading-list" };
  if (hash === "/account") return { view: "account" };
  if (hash === "/" || hash === "") return { view: "articles" };
  return { view: "not-found" };
}

async function route() {
  viewCleanup?.();
  viewCleanup = null;
  const state = document.body.dataset.state;
  if (state === "loading") return;
  if (state !== "ready") {
    renderGate();
    return;
  }
  const r = parseRoute();
  document.body.dataset.view = r.view;
  markNav(r.view);
  const token = ++renderToken;
  const view = $("view");
  try {
    if (r.view === "articles") renderArticles(view);
    else if (r.view === "article") await renderArticle(view, r.slug, token);
    else if (r.view === "reading-list") await renderReadingList(view, token);
    else if (r.view === "account") renderAccount(view);
    else renderNotFound(view);
  } catch (error) {
    if (token !== renderToken) return;
    console.error(error);
    view.replaceChildren(
      h("section", { class: "notice", "data-testid": "view-error" },
        h("h2", {}, "This page could not be loaded"),
        h("p", {}, errorText(error)),
        error.code ? h("p", { class: "error-detail" }, h("code", {}, error.code)) : null,
        h("p", {}, h("a", { href: "#/" }, "Back to all articles"))),
    );
  }
}

function scrollTop() {
  window.scrollTo({ top: 0, behavior: "instant" });
}

// ---------------------------------------------------------------------------------------------
// Views: the article list

function saveButton(slug, { compact = false } = {}) {
  const button = h("button", {
    type: "button",
    class: `save${compact ? " compact" : ""}`,
    "data-testid": "save-toggle",
    "data-slug": slug,
    onclick: () => toggleSaved(slug),
  });
  paintSaveButton(button);
  return button;
}

function paintSaveButton(button) {
  const saved = !!readingList.get(button.dataset.slug)?.saved;
  button.setAttribute("aria-pressed", String(saved));
  const title = articleSummary(button.dataset.slug)?.title || "this article";
  button.setAttribute("aria-label", saved ? `Remove “${title}” from your reading list` : `Save “${title}” to your reading list`);
  button.replaceChildren(
    h("span", { class: "save-icon", "aria-hidden": "true" }, saved ? "★" : "☆"),
    h("span", { class: "save-label" }, saved ? "Saved" : "Save"),
  );
}

async function toggleSaved(slug) {
  const buttons = document.querySelectorAll(`button.save[data-slug="${CSS.escape(slug)}"]`);
  const saved = !readingList.get(slug)?.saved;
  buttons.forEach((b) => (b.disabled = true));
  try {
    const entry = await api(`/reading-list/${encodeURIComponent(slug)}`, { method: "PUT", body: { saved } });
    readingList.set(slug, entry);
    updateListCount();
    toast(saved ? "Saved to your reading list." : "Removed from your reading list.");
  } catch (error) {
    toast(`Could not update your reading list: ${errorText(error)}`, "error");
  } finally {
    for (const b of document.querySelectorAll(`button.save[data-slug="${CSS.escape(slug)}"]`)) {
      b.disabled = false;
      paintSaveButton(b);
    }
  }
}

function progressBar(progress, label) {
  const value = percent(progress);
  return h("div", {
      class: "bar-track",
      role: "progressbar",
      "aria-valuemin": "0",
      "aria-valuemax": "100",
      "aria-valuenow": String(value),
      "aria-label": label || "Read so far",
      "data-testid": "progress",
    },
    h("div", { class: "bar-fill", style: `width: ${value}%` }),
  );
}

function progressText(progress) {
  const value = percent(progress);
  if (value >= 98) return "Finished";
  if (value <= 0) return "Not started";
  return `${value}% read`;
}

function byline(article) {
  // Each dot travels with what follows it, so a wrapped line never ends on a dot.
  return h("p", { class: "meta" },
    h("span", { class: "author" }, article.author),
    h("span", { class: "meta-item" },
      h("span", { class: "dot", "aria-hidden": "true" }, "·"),
      h("time", { datetime: article.published }, formatDay(article.published))),
    h("span", { class: "meta-item" },
      h("span", { class: "dot", "aria-hidden": "true" }, "·"),
      h("span", { class: "minutes" }, `${article.minutes} min read`)),
  );
}

function teaser(article, { featured = false } = {}) {
  const entry = readingList.get(article.slug);
  const started = entry && entry.progress > 0;
  return h("li", { class: `teaser${featured ? " featured" : ""}`, "data-testid": "article-card", "data-slug": article.slug },
    featured ? h("p", { class: "kicker" }, "Latest") : null,
    h("h2", { class: "teaser-title" }, h("a", { href: `#/article/${article.slug}`, "data-testid": "article-link" }, article.title)),
    byline(article),
    h("p", { class: "summary" }, article.summary),
    h("div", { class: "teaser-foot" },
      started
        ? h("div", { class: "teaser-progress" }, progressBar(entry.progress), h("span", {}, progressText(entry.progress)))
        : h("span", { class: "teaser-spacer" }),
      saveButton(article.slug, { compact: true }),
    ),
  );
}

function guestCallout() {
  const user = app.currentUser;
  if (!user?.isAnonymous) return null;
  return h("aside", { class: "callout", "data-testid": "guest-callout" },
    h("p", {},
      h("strong", {}, "You are reading as a guest. "),
      "No email, no password: this browser holds a private guest pass, and your reading list is kept under it on the server. ",
      h("a", { href: "#/account" }, "Keep your reading list"),
      " to take it to other browsers.",
    ),
  );
}

function renderArticles(view) {
  document.title = "The Margin · read as a guest";
  const [first, ...rest] = articles;
  view.replaceChildren(
    h("section", { class: "masthead" },
      h("p", { class: "kicker" }, "Essays and field notes"),
      h("h1", {}, "Slow reading for curious people"),
      h("p", { class: "lede" }, `${articles.length} essays on maps, weather, libraries, kitchens and the small machinery of everyday life.`),
    ),
    guestCallout(),
    articles.length === 0
      ? h("p", { class: "empty" }, "No articles yet.")
      : h("ol", { class: "article-list", "data-testid": "article-list" },
          teaser(first, { featured: true }),
          rest.map((a) => teaser(a)),
        ),
  );
  scrollTop();
}

// ---------------------------------------------------------------------------------------------
// Views: one article

async function renderArticle(view, slug, token) {
  view.replaceChildren(h("div", { class: "loading-note", role: "status" }, h("p", {}, "Loading the article…")));
  const article = await api(`/articles/${encodeURIComponent(slug)}`);
  if (token !== renderToken) return;
  document.title = `${article.title} · The Margin`;

  const index = articles.findIndex((a) => a.slug === slug);
  const next = index >= 0 ? articles[(index + 1) % articles.length] : null;
  const entry = readingList.get(slug);
  const resumeAt = entry?.progress || 0;

  const prose = h("div", { class: "prose", "data-testid": "article-body" },
    (article.blocks || []).map((block) => (block.type === "h2" ? h("h2", {}, block.text) : h("p", {}, block.text))),
  );

  const resume = resumeAt > 0.05 && resumeAt < 0.95
    ? h("button", { type: "button", class: "link-button", "data-testid": "resume", onclick: () => scrollToProgress(prose, resumeAt) },
        `Continue where you left off (${percent(resumeAt)}%)`)
    : null;

  view.replaceChildren(
    h("article", { class: "story", "data-testid": "article", "data-slug": slug },
      h("a", { class: "back", href: "#/" }, "← All articles"),
      h("header", { class: "story-head" },
        h("h1", { "data-testid": "article-title" }, article.title),
        h("p", { class: "dek" }, article.summary),
        byline(article),
        h("div", { class: "story-actions" }, saveButton(slug), resume),
      ),
      prose,
      h("footer", { class: "story-end" },
        h("p", { class: "fin", "aria-hidden": "true" }, "❦"),
        h("div", { class: "story-end-actions" },
          saveButton(slug),
          next && next.slug !== slug
            ? h("a", { class: "next", href: `#/article/${next.slug}` }, h("span", {}, "Next essay"), h("strong", {}, next.title))
            : null,
        ),
      ),
    ),
    commentsSection(slug, article.comments || []),
  );
  scrollTop();
  viewCleanup = trackProgress(slug, prose);
}

function scrollToProgress(prose, progress) {
  const rect = prose.getBoundingClientRect();
  const top = window.scrollY + rect.top + rect.height * progress - window.innerHeight;
  window.scrollTo({ top: Math.max(0, top), behavior: "smooth" });
}

/** How far the reader has read `prose`: the share of it that has been on screen. */
function progressOf(prose) {
  const rect = prose.getBoundingClientRect();
  if (rect.height <= 0) return 0;
  const seen = window.innerHeight - rect.top;
  return Math.max(0, Math.min(1, seen / rect.height));
}

/** Follows the scroll position; saves the furthest point reached, debounced. */
function trackProgress(slug, prose) {
  const fill = $("progress-fill");
  let furthest = readingList.get(slug)?.progress || 0;
  let pending = null;
  let timer = null;

  const send = async () => {
    timer = null;
    if (pending === null) return;
    const progress = pending;
    pending = null;
    try {
      const entry = await api(`/reading-list/${encodeURIComponent(slug)}`, { method: "PUT", body: { progress } });
      readingList.set(slug, entry);
      updateListCount();
    } catch (error) {
      console.warn("could not save reading progress", error);
    }
  };

  const onScroll = () => {
    const now = progressOf(prose);
    fill.style.width = `${(now * 100).toFixed(1)}%`;
    const rounded = Math.round(now * 100) / 100;
    if (rounded > furthest + 0.009) {
      furthest = rounded;
      pending = rounded;
      clearTimeout(timer);
      timer = setTimeout(send, 700);
    }
  };

  document.body.classList.add("reading");
  fill.style.width = "0%";
  window.addEventListener("scroll", onScroll, { passive: true });
  window.addEventListener("resize", onScroll, { passive: true });
  requestAnimationFrame(() => (fill.style.width = `${(progressOf(prose) * 100).toFixed(1)}%`));
  return () => {
    window.removeEventListener("scroll", onScroll);
    window.removeEventListener("resize", onScroll);
    document.body.classList.remove("reading");
    fill.style.width = "0%";
    if (timer) {
      clearTimeout(timer);
      send();
    }
  };
}

function commentItem(comment) {
  return h("li", { class: "comment", "data-testid": "comment" },
    h("p", { class: "comment-meta" },
      h("strong", {}, comment.author),
      h("span", { class: "dot", "aria-hidden": "true" }, "·"),
      h("time", { datetime: new Date(comment.created_at * 1000).toISOString() }, formatEpoch(comment.created_at)),
    ),
    h("p", { class: "comment-text" }, comment.text),
  );
}

function commentsSection(slug, comments) {
  const user = app.currentUser;
  const guest = user?.isAnonymous;
  const list = h("ol", { class: "comment-list", "data-testid": "comment-list" }, comments.map(commentItem));
  const count = h("span", { class: "count-label" }, String(comments.length));
  const error = h("p", { class: "form-error", role: "alert", "data-testid": "comment-error", hidden: true });
  const textarea = h("textarea", {
    id: "comment-text",
    name: "text",
    rows: "4",
    maxlength: "2000",
    required: true,
    placeholder: guest ? "Guests can read comments; posting one needs an account." : "Add to the conversation…",
    "data-testid": "comment-text",
  });
  // Other readers see this name, never the email: it is asked for here, kept in this browser.
  const nameInput = h("input", {
    id: "comment-name",
    name: "name",
    type: "text",
    maxlength: "40",
    autocomplete: "nickname",
    placeholder: "Reader",
    value: rememberedCommentName(),
    "data-testid": "comment-name",
  });
  const submit = h("button", { type: "submit", class: "primary", "data-testid": "comment-submit" }, "Post comment");

  const form = h("form", {
      class: "comment-form",
      "data-testid": "comment-form",
      onsubmit: async (event) => {
        event.preventDefault();
        error.hidden = true;
        const text = textarea.value.trim();
        if (!text) {
          error.replaceChildren("Write something first.");
          error.hidden = false;
          return;
        }
        const name = nameInput.value.trim();
        submit.disabled = true;
        try {
          const body = name ? { text, name } : { text };
          const posted = await api(`/articles/${encodeURIComponent(slug)}/comments`, { method: "POST", body });
          rememberCommentName(name);
          list.append(commentItem(posted));
          form.parentElement?.querySelector('[data-testid="no-comments"]')?.remove();
          count.textContent = String(list.children.length);
          textarea.value = "";
          toast("Comment posted.");
        } catch (err) {
          // The server decides who may comment; show its words and its code.
          error.replaceChildren(
            h("span", { class: "form-error-text", "data-testid": "comment-error-message" }, sentence(errorText(err))),
            err.code ? h("code", { "data-testid": "comment-error-code" }, err.code) : null,
            err.code === "CommentRequiresAccount"
              ? h("span", { class: "form-error-hint" }, " ", h("a", { href: "#/account" }, "Keep your reading list"), " with an email and password, then comment.")
              : null,
          );
          error.hidden = false;
        } finally {
          submit.disabled = false;
        }
      },
    },
    guest
      ? null
      : h("div", { class: "field" },
          h("label", { for: "comment-name" }, "Name shown with your comment"),
          nameInput),
    h("label", { for: "comment-text", class: "label" }, "Leave a comment"),
    guest
      ? h("p", { class: "hint", "data-testid": "comment-guest-note" },
          "Guests read comments but cannot post them: the server accepts comments only from readers with an account. ",
          h("a", { href: "#/account" }, "Keep your reading list"),
          " to get one; your guest id and list stay the same.")
      : null,
    textarea,
    error,
    h("div", { class: "form-actions" }, submit),
  );

  return h("section", { class: "comments", "data-testid": "comments", "aria-labelledby": "comments-title" },
    h("h2", { id: "comments-title" }, "Comments ", count),
    comments.length === 0 ? h("p", { class: "hint", "data-testid": "no-comments" }, "No comments yet.") : null,
    list,
    form,
  );
}

const COMMENT_NAME_KEY = "guestpass-demo:comment-name";

/** The name this browser last commented under, or "". */
function rememberedCommentName() {
  try {
    return localStorage.getItem(COMMENT_NAME_KEY) || "";
  } catch {
    return "";
  }
}

function rememberCommentName(name) {
  try {
    if (name) localStorage.setItem(COMMENT_NAME_KEY, name);
    else localStorage.removeItem(COMMENT_NAME_KEY);
  } catch {
    // storage may be off; the name is only a convenience
  }
}

/** "create an account to comment" → "Create an account to comment." */
function sentence(text) {
  const t = String(text || "").trim();
  if (!t) return t;
  const first = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(first) ? first : `${first}.`;
}

// ---------------------------------------------------------------------------------------------
// Views: the reading list

async function renderReadingList(view, token) {
  document.title = "Your reading list · The Margin";
  await loadReadingList();
  if (token !== renderToken) return;
  const user = app.currentUser;
  const entries = [...readingList.values()];
  const savedCount = entries.filter((e) => e.saved).length;
  const startedCount = entries.filter((e) => e.progress > 0).length;

  const whose = user.isAnonymous
    ? h("p", { class: "lede small" },
        "Kept on the server under your guest id ",
        h("code", { class: "inline-id" }, user.id),
        ". It lasts as long as this guest pass: ",
        h("a", { href: "#/account" }, "keep your reading list"),
        " to make it yours for good.")
    : h("p", { class: "lede small" }, "Kept with your account, ", h("strong", {}, user.profile?.email || "your account"), ", in every browser where you sign in.");

  const items = entries.map((entry) => {
    const article = articleSummary(entry.slug) || { slug: entry.slug, title: entry.title, author: "", minutes: 0, published: "" };
    return h("li", { class: "entry", "data-testid": "reading-item", "data-slug": entry.slug },
      h("div", { class: "entry-main" },
        h("h2", { class: "entry-title" }, h("a", { href: `#/article/${entry.slug}` }, entry.title || article.title)),
        article.author ? byline(article) : null,
        h("div", { class: "entry-progress" },
          progressBar(entry.progress, `How far you read “${entry.title}”`),
          h("span", { class: "entry-progress-text", "data-testid": "progress-text" }, progressText(entry.progress)),
        ),
      ),
      h("div", { class: "entry-side" },
        entry.saved ? null : h("span", { class: "badge" }, "Started"),
        saveButton(entry.slug, { compact: true }),
      ),
    );
  });

  view.replaceChildren(
    h("section", { class: "masthead compact" },
      h("p", { class: "kicker" }, "Reading list"),
      h("h1", {}, "Your reading list"),
      whose,
      entries.length
        ? h("p", { class: "stats", "data-testid": "reading-stats" }, `${savedCount} saved · ${startedCount} started`)
        : null,
    ),
    entries.length === 0
      ? h("div", { class: "empty", "data-testid": "reading-list-empty" },
          h("p", { class: "empty-title" }, "Nothing here yet."),
          h("p", {}, "Save an article with ☆ Save, or just start reading: articles you begin show up here with how far you got."),
          h("p", {}, h("a", { class: "button primary", href: "#/" }, "Browse the articles")))
      : h("ul", { class: "entries", "data-testid": "reading-list" }, items),
  );
  scrollTop();
}

// ---------------------------------------------------------------------------------------------
// Views: account (keep your list, sign in)

function field({ label, type, name, autocomplete, testid, minlength, maxlength, value }) {
  const id = `f-${name}-${Math.random().toString(36).slice(2, 8)}`;
  return h("div", { class: "field" },
    h("label", { for: id }, label),
    h("input", { id, type, name, autocomplete, required: true, minlength, maxlength, "data-testid": testid, value, spellcheck: "false" }),
  );
}

function formError() {
  return h("p", { class: "form-error", role: "alert", "data-testid": "form-error", hidden: true });
}

function showFormError(el, message, code) {
  el.replaceChildren(h("span", {}, message), code ? h("code", { "data-testid": "form-error-code" }, code) : null);
  el.hidden = false;
}

/** The email of a member who signed out in this browser, to fill the sign-in form with. */
function rememberedEmail() {
  try {
    for (const user of Object.values(app?.allUsers || {})) {
      if (!user.isAnonymous && user.profile?.email) return user.profile.email;
    }
  } catch {
    // nothing remembered
  }
  return "";
}

function keepForm() {
  const error = formError();
  const submit = h("button", { type: "submit", class: "primary", "data-testid": "keep-submit" }, "Keep my reading list");
  const form = h("form", { class: "panel-form", "data-testid": "keep-form", novalidate: true },
    field({ label: "Email", type: "email", name: "email", autocomplete: "email", testid: "keep-email" }),
    field({ label: "Password (6 to 128 characters)", type: "password", name: "password", autocomplete: "new-password", testid: "keep-password", minlength: 6, maxlength: 128 }),
    error,
    h("div", { class: "form-actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    const problem = checkCredentials(email, password);
    if (problem) return showFormError(error, problem);
    const user = app.currentUser;
    if (!user) return showFormError(error, "You are not signed in.");
    submit.disabled = true;
    submit.textContent = "Keeping your list…";
    try {
      let registeredBefore = false;
      try {
        await app.emailPasswordAuth.registerUser({ email, password });
      } catch (err) {
        if (err?.code !== "AccountNameInUse") throw err;
        registeredBefore = true; // maybe this reader's own account: try to link it
      }
      try {
        await user.linkCredentials(sdk.Credentials.emailPassword(email, password));
      } catch (err) {
        if (err?.code === "AccountNameInUse") {
          throw Object.assign(new Error(
            "That email already belongs to another reader's account, so it cannot be added to this guest. Use another email, or sign in with it below (this guest's list comes along into that account)."), { code: err.code });
        }
        if (err?.code === "InvalidPassword") {
          throw Object.assign(new Error(registeredBefore
            ? "That email is already registered, and this password does not match it. Use the account's password, or another email."
            : "The server refused this email and password."), { code: err.code });
        }
        throw err;
      }
      await enter(app.currentUser);
      toast(`Your reading list is yours to keep. Signed in as ${app.currentUser?.profile?.email || email}.`, "success");
    } catch (err) {
      showFormError(error, sentence(errorText(err)), err?.code);
      submit.disabled = false;
      submit.textContent = "Keep my reading list";
    }
  });
  return form;
}

function checkCredentials(email, password) {
  if (!email || !/^[^\s@]+@[^\s@]+$/.test(email)) return "Enter an email address.";
  if (password.length < 6 || password.length > 128) return "The password is 6 to 128 characters.";
  return null;
}

function signInForm({ create = false } = {}) {
  const error = formError();
  const label = create ? "Create account" : "Sign in";
  const submit = h("button", { type: "submit", class: create ? "" : "primary", "data-testid": create ? "create-submit" : "sign-in-submit" }, label);
  const prefix = create ? "create" : "sign-in";
  const form = h("form", { class: "panel-form", "data-testid": `${prefix}-form`, novalidate: true },
    field({ label: "Email", type: "email", name: "email", autocomplete: create ? "email" : "username", testid: `${prefix}-email`, value: create ? "" : rememberedEmail() }),
    field({ label: create ? "Password (6 to 128 characters)" : "Password", type: "password", name: "password", autocomplete: create ? "new-password" : "current-password", testid: `${prefix}-password`, minlength: create ? 6 : 1, maxlength: 128 }),
    error,
    h("div", { class: "form-actions" }, submit),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const email = form.elements.email.value.trim();
    const password = form.elements.password.value;
    const problem = create ? checkCredentials(email, password) : !email || !password ? "Enter your email and password." : null;
    if (problem) return showFormError(error, problem);

    submit.disabled = true;
    try {
      if (create) {
        await app.emailPasswordAuth.registerUser({ email, password });
      }
      // A guest's list comes along into the account (docs/merge.md).
      const { member, moved } = await signInBringingGuest(sdk.Credentials.emailPassword(email, password));
      await enter(member);
      toast(mergedText(moved) || `Signed in as ${member.profile?.email || email}.`, "success");
    } catch (err) {
      const messages = {
        InvalidPassword: "Wrong email or password.",
        AccountNameInUse: "That email is already registered. Sign in with it instead.",
        UserDisabled: "This account has been disabled by the site.",
        AuthProviderNotFound: "Email and password sign-in is switched off on this server.",
      };
      showFormError(error, messages[err?.code] || sentence(errorText(err)), err?.code);
      submit.disabled = false;
    }
  });
  return form;
}

// ---------------------------------------------------------------------------------------------
// Signing in to an existing account as a guest: the guest's list comes along (docs/merge.md)

/**
 * Logs in with `credentials`; when the current user is a guest, the SDK asks for a merge proof
 * and this page hands it to the blog's backend, which moves the guest's saved articles and
 * reading progress into the account. What the backend moved, or null.
 */
async function signInBringingGuest(credentials) {
  const member = await app.logIn(credentials, { mergeAnonymous: true });
  const merge = member.merge;
  const moved = merge ? await finishMerge(merge) : null;
  return { member, moved };
}

/**
 * Hands a pending merge's proof to the backend, then deletes the guest (`complete()`). A proof
 * the backend already used (the page reloaded after the move, before `complete()`) has moved
 * the list: the guest is deleted all the same. A proof the backend refuses (expired: the page
 * was closed for longer than the proof lives) moves nothing: the merge is abandoned and the
 * guest kept in this browser, so nothing is deleted that was not moved.
 */
async function finishMerge(merge) {
  let moved = null;
  try {
    moved = await api("/merge", { method: "POST", body: { proof: merge.proof } });
  } catch (error) {
    if (error?.code === "InvalidMergeProof") {
      merge.abandon();
      toast("This browser's guest reading list could not be brought along: the sign-in was too long ago.", "warn");
      return null;
    }
    if (error?.code !== "MergeProofRedeemed") throw error;
  }
  await merge.complete();
  return moved;
}

/** "3 saved articles from this browser were added to your list", or null when none were. */
function mergedText(moved) {
  const added = moved?.saved_added ?? 0;
  if (added > 0) {
    return `${added} saved article${added === 1 ? "" : "s"} from this browser ${added === 1 ? "was" : "were"} added to your list.`;
  }
  if ((moved?.moved ?? 0) > 0) return "Your reading progress from this browser was added to your list.";
  return null;
}

/** After a reload in the middle of a merge: finishes it, once the account is current. */
async function resumeMerge() {
  const merge = app.pendingMerge;
  if (!merge || app.currentUser?.id !== merge.into) return;
  try {
    const text = mergedText(await finishMerge(merge));
    if (text) toast(text, "success");
  } catch (error) {
    console.warn("the pending merge could not be finished yet", error);
  }
}

function renderAccount(view) {
  document.title = "Your account · The Margin";
  const user = app.currentUser;
  if (user.isAnonymous) {
    view.replaceChildren(
      h("section", { class: "masthead compact" },
        h("p", { class: "kicker" }, "Your guest pass"),
        h("h1", {}, "Keep your reading list"),
        h("p", { class: "lede small" },
          "Right now you read as a guest: your id ",
          h("code", { class: "inline-id", "data-testid": "account-user-id" }, user.id),
          " lives only in this browser. Clear the browser's data, or sign out, and that guest and its list are gone for good. " +
          "Add a passkey, or an email and password, and the same id, with the same list, becomes an account you can sign in to again."),
      ),
      h("div", { class: "panels" },
        passkeyKeepPanel(),
        h("section", { class: "panel", "aria-labelledby": "keep-title" },
          h("h2", { id: "keep-title" }, passkeysOffered() ? "Or add an email and password" : "Add an email and password"),
          h("p", { class: "hint" }, `Your ${readingList.size ? `${readingList.size} article${readingList.size === 1 ? "" : "s"}` : "list"}, your id and anything you read stay exactly as they are.`),
          keepForm(),
        ),
        h("section", { class: "panel quiet", "aria-labelledby": "signin-title" },
          h("h2", { id: "signin-title" }, "Already have an account?"),
          h("p", { class: "hint" }, "Sign in to read with your account's list. This guest's list is left behind."),
          passkeySignIn(),
          signInForm(),
        ),
      ),
    );
  } else {
    const identities = user.identities || [];
    view.replaceChildren(
      h("section", { class: "masthead compact" },
        h("p", { class: "kicker" }, "Your account"),
        h("h1", {}, user.profile?.email || "Your account"),
        h("p", { class: "lede small" }, user.profile?.email
          ? "Your reading list is kept with this account. Sign in with this email in any browser to see it."
          : "Your reading list is kept with this account. Sign in with your passkey to see it again, here or on a device that has it."),
      ),
      h("dl", { class: "facts", "data-testid": "account-facts" },
        h("dt", {}, "Email"), h("dd", {}, user.profile?.email || "—"),
        h("dt", {}, "User id"), h("dd", {}, h("code", { "data-testid": "account-user-id" }, user.id)),
        h("dt", {}, "Sign-in methods"),
        h("dd", {}, identities.map((i) => providerName(i.providerType)).join(", ") || "—"),
        h("dt", {}, "Reading list"),
        h("dd", {}, h("a", { href: "#/reading-list" }, `${[...readingList.values()].filter((e) => e.saved).length} saved`)),
      ),
      passkeyAddBlock(),
      h("p", {}, h("button", { type: "button", "data-testid": "account-sign-out", onclick: signOut }, "Sign out")),
    );
  }
  scrollTop();
}

function providerName(type) {
  return { "anon-user": "guest pass (anonymous)", "local-userpass": "email and password", "custom-token": "single sign-on", passkey: "passkey" }[type] || type;
}

function renderNotFound(view) {
  document.title = "Not found · The Margin";
  view.replaceChildren(
    h("section", { class: "masthead compact" },
      h("h1", {}, "Nothing here"),
      h("p", {}, "That page does not exist. ", h("a", { href: "#/" }, "See all articles"), ".")),
  );
}

// ---------------------------------------------------------------------------------------------
// Passkeys: keep the guest with one tap, sign back in with it after the browser's data is gone

/** Whether to offer passkeys: the server allows them and this browser can make them. */
function passkeysOffered() {
  return !!app?.passkeysSupported && hasProvider("passkey");
}

/** What a passkey failure means to the reader; the guest (or member) is left as it was. */
function passkeyProblem(error) {
  const messages = {
    PasskeyCancelled: "The passkey prompt was closed, so nothing changed.",
    PasskeyAlreadyRegistered: "This device already holds a passkey for your reading list.",
    PasskeyUnsupported: "This browser cannot use passkeys here.",
    PasskeyCredentialUnknown: "The site no longer knows that passkey (it may have been removed). Try another one, or your email.",
    PasskeyChallengeInvalid: "That took too long. Try again.",
    AuthProviderNotFound: "Passkeys are switched off on this server.",
  };
  return messages[error?.code] || sentence(errorText(error));
}

/** "Keep it with a passkey": one button that links a new passkey to the guest. */
function passkeyKeepPanel() {
  if (!passkeysOffered()) return null;
  const error = formError();
  const button = h("button", { type: "button", class: "primary", "data-testid": "keep-passkey" }, "Keep it with a passkey");
  button.addEventListener("click", async () => {
    error.hidden = true;
    const user = app.currentUser;
    if (!user) return showFormError(error, "You are not signed in.");
    button.disabled = true;
    button.textContent = "Waiting for your passkey…";
    try {
      await user.linkCredentials(sdk.Credentials.passkey());
      await enter(app.currentUser);
      toast("Your reading list is yours to keep: sign in with your passkey on any device that has it.", "success");
    } catch (err) {
      showFormError(error, passkeyProblem(err), err?.code);
      button.disabled = false;
      button.textContent = "Keep it with a passkey";
    }
  });
  return h("section", { class: "panel passkey", "aria-labelledby": "passkey-title", "data-testid": "passkey-panel" },
    h("h2", { id: "passkey-title" }, "Keep it with a passkey"),
    h("p", { class: "hint" },
      "One tap: your fingerprint, face or device PIN, with no email and no password. Your id and list stay as they are, " +
      "and the passkey brings them back here after you clear the browser's data, or on a device that has it."),
    h("div", { class: "panel-form" }, error, h("div", { class: "form-actions" }, button)),
  );
}

/** "Sign in with a passkey", for a reader who kept their list with one (the browser lists the site's passkeys). */
function passkeySignIn() {
  if (!passkeysOffered()) return null;
  const error = formError();
  const button = h("button", { type: "button", "data-testid": "passkey-sign-in" }, "Sign in with a passkey");
  button.addEventListener("click", async () => {
    error.hidden = true;
    button.disabled = true;
    try {
      // A guest's list comes along into the passkey's account, as with an email (docs/merge.md).
      const { member, moved } = await signInBringingGuest(sdk.Credentials.passkey());
      await enter(member);
      toast(mergedText(moved) || "Welcome back: signed in with your passkey.", "success");
    } catch (err) {
      showFormError(error, passkeyProblem(err), err?.code);
      button.disabled = false;
    }
  });
  return h("div", { class: "passkey-sign-in", "data-testid": "passkey-sign-in-block" },
    h("div", { class: "form-actions" }, button),
    error,
    h("p", { class: "or", "aria-hidden": "true" }, "or with your email"),
  );
}

/** On a member's account page: another passkey (a second device), or a first one. */
function passkeyAddBlock() {
  if (!passkeysOffered()) return null;
  const error = formError();
  const button = h("button", { type: "button", "data-testid": "add-passkey" }, "Add a passkey");
  button.addEventListener("click", async () => {
    error.hidden = true;
    button.disabled = true;
    try {
      await app.currentUser.linkCredentials(sdk.Credentials.passkey());
      await enter(app.currentUser);
      toast("Passkey added.", "success");
    } catch (err) {
      showFormError(error, passkeyProblem(err), err?.code);
      button.disabled = false;
    }
  });
  return h("div", { class: "passkey-add" }, h("p", {}, button), error);
}

// ---------------------------------------------------------------------------------------------
// The gate: what a reader without a session sees

function renderGate({ problem = null } = {}) {
  viewCleanup?.();
  viewCleanup = null;
  document.body.dataset.view = "gate";
  markNav(null);
  const state = document.body.dataset.state;
  const view = $("view");
  const anon = hasProvider("anon-user");
  const userpass = hasProvider("local-userpass") || state === "error";

  let notice = null;
  if (state === "no-provider") {
    document.title = "Guest reading is off · The Margin";
    notice = h("section", { class: "notice", "data-testid": "no-provider", role: "status" },
      h("h2", {}, "No anonymous provider"),
      h("p", {},
        "Guest reading is switched off on this server: it has no anonymous provider, so it cannot give you a guest pass. " +
        (userpass ? "You can still sign in with your email and password." : "Come back later, when the site lets guests in again.")),
    );
  } else if (state === "signed-out") {
    document.title = "Signed out · The Margin";
    notice = h("section", { class: "notice calm", "data-testid": "signed-out" },
      h("h2", {}, "You are signed out"),
      h("p", {}, anon
        ? "Continue as a guest to read with a fresh, empty reading list, or sign in to your account."
        : "Sign in to your account to keep reading."),
      anon ? h("p", {}, h("button", { type: "button", class: "primary", "data-testid": "gate-continue", onclick: continueAsGuest }, "Continue as guest")) : null,
    );
  } else if (state === "error" && problem) {
    document.title = "Something went wrong · The Margin";
    const code = problem.error?.code ?? (problem.error?.status ? `HTTP ${problem.error.status}` : problem.error?.name || "Error");
    notice = h("section", { class: "notice", id: "problem", "data-testid": "problem" },
      h("h2", { id: "problem-title" }, problem.title),
      h("p", { id: "problem-text" }, problem.text),
      h("p", { class: "error-detail", id: "error-detail" },
        h("code", { id: "error-code" }, String(code)),
        h("span", { id: "error-message" }, errorText(problem.error))),
      h("p", {}, h("button", { type: "button", onclick: () => boot() }, "Try again")),
    );
  }

  const canUseForms = app && userpass && state !== "error";
  view.replaceChildren(
    h("section", { class: "masthead compact" },
      h("p", { class: "kicker" }, "The Margin"),
      h("h1", {}, "Slow reading for curious people"),
      h("p", { class: "lede small" }, "Essays on maps, weather, libraries, kitchens and the small machinery of everyday life."),
    ),
    notice,
    canUseForms
      ? h("div", { class: "panels" },
          h("section", { class: "panel", "aria-labelledby": "gate-signin" },
            h("h2", { id: "gate-signin" }, "Sign in"),
            h("p", { class: "hint" }, "Readers who kept their reading list sign in with their email and password."),
            passkeySignIn(),
            signInForm(),
          ),
          h("section", { class: "panel quiet", "aria-labelledby": "gate-create" },
            h("h2", { id: "gate-create" }, "New here?"),
            h("p", { class: "hint" }, "Create an account to start a reading list of your own."),
            signInForm({ create: true }),
          ),
        )
      : null,
  );
}

// ---------------------------------------------------------------------------------------------

$("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", () => route());

boot();
