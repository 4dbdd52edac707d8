// What a page needs from realm-web for an anonymous user, bundled by run.mjs with
// `esbuild --bundle --minify --format=esm` (resolves to realm-web's browser build,
// dist/bundle.dom.es.js, and bson's browser build).
import { App, Credentials } from "realm-web";
export const Realm = { App, Credentials };
