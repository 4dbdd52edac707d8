// Same recording as guestpass-page.js. realm-web.bundle.js is built by run.mjs (esbuild of
// realm-web-entry.mjs: realm-web 2.0.1's browser build, bundled and minified).
import { Realm } from "/realm-web.bundle.js";
import { resourceMarks } from "/marks.js";
try {
  const marks = { module: performance.now() };
  const app = new Realm.App({ id: "bench", baseUrl: location.origin });
  marks.app = performance.now();
  const user = await app.logIn(Realm.Credentials.anonymous());
  document.getElementById("user").textContent = user.id;
  window.__ttu = { t: performance.now(), id: user.id, marks: { ...marks, ...resourceMarks() } };
} catch (e) {
  window.__ttu = { error: String(e && (e.stack || e.message) || e) };
}
