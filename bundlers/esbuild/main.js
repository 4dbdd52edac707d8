// esbuild does not rewrite `new URL(..., import.meta.url)`, so the page imports the wasm's URL
// (the package exports `guestpass/guestpass_bg.wasm`; esbuild's `--loader:.wasm=file` copies it
// beside the bundle and gives its URL) and hands it to `init`.
import init, { App, Credentials } from "guestpass";
import wasmUrl from "guestpass/guestpass_bg.wasm";

try {
  await init({ module_or_path: wasmUrl });
  const app = new App({ id: "guestpass-bundlers" });
  const user = await app.logIn(Credentials.anonymous());
  document.getElementById("user-id").textContent = user.id;
} catch (error) {
  document.body.dataset.error = String(error);
} finally {
  document.body.dataset.ready = "true";
}
