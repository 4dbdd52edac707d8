// The page e2e/tabs.test.mjs opens in several tabs of one browser context.
//
// It makes one App (id from `?app=` or the meta tag; the server is the page's origin) and
// exposes what the test drives on `window.guestpass`:
//   app, Credentials  the SDK's objects
//   events            every change the app's listener heard: {kind, userId, remote, reason, at}
//   login             with `?login`: the anonymous login started on load (a promise of the
//                     user id, or of "error:<code>")
// `document.body.dataset.ready` is set once all of that is in place.
import init, { App, Credentials } from "/pkg/guestpass.js";

const params = new URLSearchParams(location.search);
const id = params.get("app") || document.querySelector('meta[name="guestpass-app-id"]').content;

await init();
const app = new App({ id });
const events = [];
app.addListener((event) => {
  events.push({
    kind: event.kind,
    userId: event.user.id,
    remote: event.remote,
    reason: event.reason ?? null,
    at: Date.now(),
  });
  document.getElementById("user-id").textContent = app.currentUser ? app.currentUser.id : "no user";
});
window.guestpass = { app, Credentials, events };
if (params.has("login")) {
  window.guestpass.login = app.logIn(Credentials.anonymous()).then(
    (user) => user.id,
    (error) => `error:${error.code}`,
  );
}
document.body.dataset.ready = "true";
