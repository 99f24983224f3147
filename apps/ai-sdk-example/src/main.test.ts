import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("runs offline with the demo model and answers both questions", () => {
  const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));
  const run = spawnSync(process.execPath, [main], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "" },
    timeout: 60_000,
  });
  expect(run.status).toBe(0);
  expect(run.stdout).toContain("offline demo model");
  expect(run.stdout).toMatch(/generateText → .*misconfigured load balancer in Frankfurt/);
  expect(run.stdout).toMatch(/· Iteration 1/);
  expect(run.stdout).toMatch(/streamText → .*Frankfurt/);
});
