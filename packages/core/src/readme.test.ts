import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("the README's example runs and answers", () => {
  const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");
  const example = /<!-- This block is run by src\/readme\.test\.ts\. -->\n```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toBeDefined();
  // Written inside the package, so `@rlm/core` resolves to this package through its own `exports`.
  const file = fileURLToPath(new URL("../.readme-example.mjs", import.meta.url));
  writeFileSync(file, example as string);
  try {
    const run = spawnSync(process.execPath, [file], { encoding: "utf8", timeout: 60_000 });
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/ferry leaves at 06:40 from pier 9\.? final \d+/);
  } finally {
    rmSync(file, { force: true });
  }
});
