// The package's types, as a TypeScript user meets them: bundlers/ts/consumer.ts (every public
// name) compiles under `tsc --strict --noEmit` with moduleResolution `bundler` and `node16`,
// from a fresh project that installed the packed SDK; bundlers/ts/misuse.ts fails with exactly
// the errors its `// expect TSxxxx` comments name, on those lines.
// Run: node --test bundlers/types.test.mjs
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, consumerProject, run } from "./consumer.mjs";

let dir;
before(async () => {
  dir = await consumerProject("ts");
});

const tsc = (config) => run(join(BIN, "tsc"), ["-p", config], { cwd: dir });

for (const resolution of ["bundler", "node16"]) {
  test(`consumer.ts, using every public name, compiles under --strict with moduleResolution ${resolution}`, async () => {
    const config = JSON.parse(readFileSync(join(dir, `tsconfig.${resolution}.json`), "utf8")).compilerOptions;
    assert.equal(config.moduleResolution, resolution);
    assert.equal(config.strict, true);
    await tsc(`tsconfig.${resolution}.json`);
  });
}

test("misuse.ts (a wrong option, a User method that does not exist, a wrong event kind) fails with the expected errors", async () => {
  const expected = readFileSync(join(dir, "misuse.ts"), "utf8")
    .split("\n")
    .flatMap((line, i) => {
      const match = /\/\/ expect (TS\d+)$/.exec(line);
      return match ? [`misuse.ts:${i + 1} ${match[1]}`] : [];
    });
  assert.equal(expected.length, 3);
  const { code, stdout } = await new Promise((resolve) => {
    execFile(join(BIN, "tsc"), ["-p", "tsconfig.misuse.json"], { cwd: dir }, (error, stdout) =>
      resolve({ code: error?.code ?? 0, stdout }));
  });
  assert.equal(code, 2, `tsc exits 2 (errors):\n${stdout}`);
  const reported = [...stdout.matchAll(/^(misuse\.ts)\((\d+),\d+\): error (TS\d+):/gm)].map(
    ([, file, line, err]) => `${file}:${line} ${err}`,
  );
  assert.deepEqual(reported, expected, stdout);
});
