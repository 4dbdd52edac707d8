// Resource Timing of the page so far, as `<name>.start` / `<name>.end` marks (ms from the
// navigation's start): the page itself, each SDK file, each /api/ request (by its last path
// segment, e.g. `login`, `location`, `profile`; a second one of a name gets `#2`).
export function resourceMarks() {
  const marks = {};
  const nav = performance.getEntriesByType("navigation")[0];
  if (nav) marks["page.end"] = nav.responseEnd;
  for (const r of performance.getEntriesByType("resource")) {
    const path = new URL(r.name).pathname;
    let name = path.startsWith("/api/") ? path.split("/").pop() : path.split("/").pop().replace(/\.(js|wasm)$/, "");
    if (path.endsWith("/marks.js") || path.endsWith("-page.js")) continue;
    while (`${name}.end` in marks) name += "#2";
    marks[`${name}.start`] = r.startTime;
    marks[`${name}.end`] = r.responseEnd;
  }
  return marks;
}
