// Records in window.__ttu: { t: performance.now() when the user id is in the DOM, id, marks } or
// { error }. performance.now() counts from the navigation's start. `marks` says where the time
// went (run.mjs prints their medians): when this module began (the SDK's files fetched and
// evaluated), after init() (the wasm instantiated), after new App, and when the page's
// resources (the SDK's files, the login request) were requested and their last byte came.
import init, { App, Credentials } from "/pkg/guestpass.js";
import { resourceMarks } from "/marks.js";
try {
  const marks = { module: performance.now() };
  await init();
  marks.init = performance.now();
  const app = new App({ id: "bench", baseUrl: location.origin });
  marks.app = performance.now();
  const user = await app.logIn(Credentials.anonymous());
  document.getElementById("user").textContent = user.id;
  window.__ttu = { t: performance.now(), id: user.id, marks: { ...marks, ...resourceMarks() } };
} catch (e) {
  window.__ttu = { error: String(e && (e.stack || e.message) || e) };
}
