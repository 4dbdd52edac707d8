// The production build needs nothing for the wasm (main.js says why); top-level await needs an
// es2022 target. The dev server needs `optimizeDeps.exclude`: its dependency pre-bundling moves
// the glue to node_modules/.vite/deps/, where `new URL("guestpass_bg.wasm", import.meta.url)`
// no longer finds the wasm. In dev, the page's origin is Vite's, so the auth API is proxied to
// the guestpass server at GUESTPASS_URL (the page's default baseUrl is its own origin).
export default {
  build: { target: "es2022" },
  optimizeDeps: { exclude: ["guestpass"] },
  server: process.env.GUESTPASS_URL ? { proxy: { "/api": process.env.GUESTPASS_URL } } : {},
};
