// webpack 5 needs nothing for the wasm (no `experiments.asyncWebAssembly`): `init()` fetches it
// through the glue's `new URL("guestpass_bg.wasm", import.meta.url)`, which webpack emits as an
// asset.
import init, { App, Credentials } from "guestpass";

try {
  await init();
  const app = new App({ id: "guestpass-bundlers" });
  const user = await app.logIn(Credentials.anonymous());
  document.getElementById("user-id").textContent = user.id;
} catch (error) {
  document.body.dataset.error = String(error);
} finally {
  document.body.dataset.ready = "true";
}
