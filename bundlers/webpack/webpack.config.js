// Nothing for the wasm: webpack 5 emits `new URL("guestpass_bg.wasm", import.meta.url)` as an
// asset by itself. Top-level await in main.js is on by default in webpack 5.
import { fileURLToPath } from "node:url";

export default {
  mode: "production",
  entry: "./main.js",
  output: {
    path: fileURLToPath(new URL("dist", import.meta.url)),
    filename: "main.js",
    module: true,
    clean: true,
  },
  experiments: { outputModule: true },
};
