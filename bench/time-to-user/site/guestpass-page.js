// Records in window.__ttu: { t: performance.now() when the user id is in the DOM, id } or
// { error }. performance.now() counts from the navigation's start.
import init, { App, Credentials } from "/pkg/guestpass.js";
try {
  await init();
  const app = new App({ id: "bench", baseUrl: location.origin });
  const user = await app.logIn(Credentials.anonymous());
  document.getElementById("user").textContent = user.id;
  window.__ttu = { t: performance.now(), id: user.id };
} catch (e) {
  window.__ttu = { error: String(e && (e.stack || e.message) || e) };
}
