// The page e2e/tabs.test.mjs opens in several tabs of one browser context.
//
// It makes one App (id from `?app=` or the meta tag; the server is the page's origin) and
// exposes what the test drives on `window.guestpass`:
//   app, Credentials  the SDK's objects
//   events            every change the app's listener heard: {kind, userId, remote, reason, at}
//   requests          every request of the page: "METHOD path"
//   login             with `?login`: the anonymous login started on load (a promise of the
//                     user id, or of "error:<code>")
// `document.body.dataset.ready` is set once all of that is in place.
import init, { App, Credentials } from "/pkg/guestpass.js";

// Every request the page makes, as "METHOD path": a WebDriver client (e2e/webkit-tabs.test.mjs)
// cannot watch the network as playwright does. The SDK calls the global fetch at call time.
const requests = [];
const realFetch = window.fetch;
window.fetch = (input, init) => {
  const method = init?.method ?? (input instanceof Request ? input.method : "GET");
  requests.push(`${method.toUpperCase()} ${new URL(input instanceof Request ? input.url : input, location.href).pathname}`);
  return realFetch(input, init);
};

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
window.guestpass = { app, Credentials, events, requests };
if (params.has("login")) {
  window.guestpass.login = app.logIn(Credentials.anonymous()).then(
    (user) => user.id,
    (error) => `error:${error.code}`,
  );
}
document.body.dataset.ready = "true";
