// guestpass demo: signs the reader in as a guest, with no prompt.
//
// The page's state is mirrored on <body data-state="…"> so tests can wait for it:
//   loading     – the SDK is starting or a sign-in is under way
//   ready       – signed in; the guest id is in #user-id
//   signed-out  – the reader signed out; "Continue as guest" signs in again
//   no-provider – the server has anonymous sign-in switched off
//   error       – something failed; body[data-error-code] and #error-code/#error-message say what

const $ = (id) => document.getElementById(id);
const appId = document.querySelector('meta[name="guestpass-app-id"]')?.content || "guestpass-demo";

const CONFIRM_SIGN_OUT =
  "Sign out of your guest pass?\n\n" +
  "A guest's reading list is stored under this guest only. After signing out it cannot be " +
  "recovered, not even by continuing as a guest again.";

let app = null;
let Credentials = null;

function show(state, { status = "", userId = "", problem = null, error = null } = {}) {
  document.body.dataset.state = state;
  $("status").textContent = status;
  $("user-id").textContent = userId;
  $("user-id").hidden = !userId;
  $("sign-out").hidden = state !== "ready";
  $("continue").hidden = state !== "signed-out";
  $("sign-out").disabled = false;
  $("continue").disabled = false;

  $("problem").hidden = !problem;
  if (problem) {
    $("problem-title").textContent = problem.title;
    $("problem-text").textContent = problem.text;
  }
  $("error-detail").hidden = !error;
  if (error) {
    const code = error.code ?? (error.status ? `HTTP ${error.status}` : error.name || "Error");
    document.body.dataset.errorCode = String(code);
    $("error-code").textContent = String(code);
    $("error-message").textContent = error.message || String(error);
  } else {
    delete document.body.dataset.errorCode;
  }
}

function showError(error, text = "We could not give you a guest pass just now. Reload the page to try again.") {
  console.error(error);
  show("error", {
    status: "Not signed in",
    problem: { title: "Guest sign-in failed", text },
    error,
  });
}

function showUser(user) {
  show("ready", { status: user.isAnonymous === false ? "Signed in" : "Reading as guest", userId: user.id });
}

async function signIn() {
  show("loading", { status: "Signing you in…" });
  const user = await app.logIn(Credentials.anonymous());
  showUser(user);
}

async function start() {
  let sdk;
  try {
    sdk = await import("/pkg/guestpass.js");
    await sdk.default();
  } catch (error) {
    showError(error, "The guestpass SDK could not be loaded, so this page cannot sign you in.");
    return;
  }
  Credentials = sdk.Credentials;
  try {
    app = new sdk.App({ id: appId, baseUrl: location.origin });
    const providers = await app.getAuthProviders();
    if (!Array.isArray(providers) || !providers.some((p) => p && p.type === "anon-user")) {
      show("no-provider", {
        status: "Not signed in",
        problem: {
          title: "No anonymous provider",
          text: "Anonymous sign-in is switched off on this server, so you cannot get a guest pass here. You can still read this page.",
        },
      });
      return;
    }
    await signIn();
  } catch (error) {
    showError(error);
  }
}

$("sign-out").addEventListener("click", async () => {
  const user = app?.currentUser;
  if (!user) {
    show("signed-out", { status: "Signed out" });
    return;
  }
  if (!confirm(CONFIRM_SIGN_OUT)) return;
  $("sign-out").disabled = true;
  try {
    await user.logOut();
    show("signed-out", { status: "Signed out" });
  } catch (error) {
    showError(error, "Signing out failed. Reload the page to see where you stand.");
  }
});

$("continue").addEventListener("click", async () => {
  $("continue").disabled = true;
  try {
    await signIn();
  } catch (error) {
    showError(error);
  }
});

start();
