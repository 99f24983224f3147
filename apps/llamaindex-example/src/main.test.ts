import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("answers over a generated folder offline and lists only the sources it read", () => {
  const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));
  const run = spawnSync(process.execPath, [main], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "" },
    timeout: 60_000,
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  expect(run.stdout).toMatch(/A: .*vault access code for Project Halcyon is \d{4}-[A-Z]+/);
  const sources = /Sources read \((\d+) of (\d+) documents\)/.exec(run.stdout);
  expect(Number(sources?.[1])).toBeGreaterThan(0);
  expect(Number(sources?.[1])).toBeLessThan(Number(sources?.[2]));
});
