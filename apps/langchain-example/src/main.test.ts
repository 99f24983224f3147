import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("runs offline: the plain chain misses the fact, the same chain with ChatRLM finds it", () => {
  const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));
  const run = spawnSync(process.execPath, [main], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "" },
    timeout: 60_000,
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/plain chat model → .*does not say/);
  expect(run.stdout).toMatch(/ChatRLM +→ .*Lisbon office closes on 30 June/);
});
