import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Trajectory } from "@rlm/core";
import { createDemoModel, generateHaystack } from "@rlm/core/demo";
import { startOpenAITestServer } from "@rlm/openai-test-server";
import { describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function rlm(
  args: string[],
  env: Record<string, string> = {},
  onStart?: (child: ChildProcess, stderr: () => string) => void,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    onStart?.(child, () => stderr);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

async function documentsDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "rlm-cli-"));
  await mkdir(join(dir, "letters"));
  for (let i = 0; i < 5; i++) {
    const needle = i === 3 ? "The treasurer of the rowing club is Marta Okafor." : "Nothing here.";
    await writeFile(join(dir, "letters", `letter-${i}.txt`), generateHaystack({ chars: 200_000, needle, seed: i }));
  }
  return dir;
}

describe("rlm CLI", () => {
  it("prints usage for --help, and usage plus a one-line error (no stack trace) for bad arguments", async () => {
    const help = await rlm(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("rlm ask");
    const bad = await rlm(["ask", "a question"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("rlm ask needs --context");
    expect(bad.stderr).toContain("Usage:");
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const unknown = await rlm(["ask", "q", "--context", ".", "--max-iterations", "lots"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--max-iterations expects a whole number, got "lots"');
    const missing = await rlm(["ask", "q", "--context", "/no/such/path"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such file or directory");
  });

  it("answers over a directory with the offline demo model, says so, and writes --json and --trajectory", async () => {
    const dir = await documentsDir();
    const trajectoryPath = join(dir, "run.json");
    const run = await rlm([
      "ask",
      "Who is the treasurer of the rowing club?",
      "--context",
      join(dir, "letters"),
      "--json",
      "--trajectory",
      trajectoryPath,
    ]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("No model configured");
    const result = JSON.parse(run.stdout) as { answer: string; stopReason: string };
    expect(result.answer).toContain("Marta Okafor");
    expect(result.stopReason).toBe("final");
    const trajectory = JSON.parse(await readFile(trajectoryPath, "utf8")) as Trajectory;
    expect(trajectory.format).toBe("rlm-trajectory");
    expect(trajectory.root.context.parts).toBe(5);
  });

  it("uses an OpenAI-compatible server from OPENAI_BASE_URL, over HTTP", async () => {
    const server = await startOpenAITestServer({ model: createDemoModel() });
    try {
      const dir = await documentsDir();
      const run = await rlm(
        [
          "ask",
          "Who is the treasurer of the rowing club?",
          "--context",
          `${dir}/letters/*.txt`,
          "--model",
          "local-model",
        ],
        {
          OPENAI_BASE_URL: server.url,
          OPENAI_API_KEY: "test-key",
        },
      );
      expect(run.stderr).toContain(`Using local-model at ${server.url}`);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("Marta Okafor");
      expect(server.requests.length).toBeGreaterThanOrEqual(3);
      expect(server.requests.every((r) => r.model === "local-model")).toBe(true);
      expect(server.requests[0]?.headers.authorization).toBe("Bearer test-key");
    } finally {
      await server.close();
    }
  });

  it("stops cleanly on Ctrl-C (SIGINT) and still writes the trajectory", async () => {
    const server = await startOpenAITestServer({ model: createDemoModel(), latencyMs: 30_000 });
    try {
      const dir = await documentsDir();
      const trajectoryPath = join(dir, "interrupted.json");
      const run = await rlm(
        ["ask", "Who is the treasurer?", "--context", join(dir, "letters"), "--trajectory", trajectoryPath],
        { OPENAI_BASE_URL: server.url },
        (child, stderr) => {
          const timer = setInterval(() => {
            if (stderr().includes("iteration 1")) {
              clearInterval(timer);
              child.kill("SIGINT");
            }
          }, 20);
        },
      );
      expect(run.code).toBe(130);
      expect(run.stderr).toContain("Stopped (interrupted)");
      const trajectory = JSON.parse(await readFile(trajectoryPath, "utf8")) as Trajectory;
      expect(trajectory.root.iterations).toHaveLength(1);
      expect(trajectory.root.error?.name).toBe("RLMAbortedError");
    } finally {
      await server.close();
    }
  });

  it("rlm view serves the viewer and the trajectory on 127.0.0.1, and refuses files that are not trajectories", async () => {
    const dir = await documentsDir();
    const trajectoryPath = join(dir, "run.json");
    await rlm([
      "ask",
      "Who is the treasurer?",
      "--context",
      join(dir, "letters"),
      "--trajectory",
      trajectoryPath,
      "--quiet",
    ]);
    let page = "";
    let served = "";
    const run = await rlm(["view", trajectoryPath, "--port", "0"], {}, (child) => {
      let out = "";
      child.stdout?.on("data", async (c: Buffer) => {
        out += c.toString();
        const url = /Trajectory viewer: (\S+)/.exec(out)?.[1];
        if (!url || page) return;
        page = await (await fetch(url)).text();
        served = await (await fetch(new URL("/trajectory.json", url))).text();
        child.kill("SIGINT");
      });
    });
    expect(run.code).toBe(0);
    expect(page).toContain("rlm trajectory viewer");
    expect(served).toBe(await readFile(trajectoryPath, "utf8"));

    await writeFile(join(dir, "other.json"), JSON.stringify({ hello: "world" }));
    const refused = await rlm(["view", join(dir, "other.json")]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("is not an rlm trajectory");
  });
});
