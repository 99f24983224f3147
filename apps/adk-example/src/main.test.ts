import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("runs offline: the reader finds the fact, the writer turns it into a brief from state", () => {
  const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));
  const run = spawnSync(process.execPath, [main], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "" },
    timeout: 60_000,
  });
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/\[reader\] Iteration 1/);
  expect(run.stdout).toMatch(/\[reader\] .*vault access code for Project Halcyon is \d{4}-[A-Z]+/);
  expect(run.stdout).toMatch(/\[writer\] BRIEF\n- Finding: .*Project Halcyon/);
  expect(run.stdout).toMatch(/state\.finding = ".*Halcyon/);
});
