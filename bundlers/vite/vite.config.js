// Nothing for the wasm (main.js says why); top-level await needs an es2022 target.
export default {
  build: { target: "es2022" },
};
