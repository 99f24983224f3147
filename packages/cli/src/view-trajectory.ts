import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { CLIUsageError } from "./usage-error.js";

/**
 * `rlm view <trajectory.json>`: serves the trajectory viewer and the file on 127.0.0.1 until the signal aborts.
 * Refuses files that are not trajectories of a version the viewer reads.
 */
export async function viewTrajectory(
  file: string,
  options: { port: number; signal?: AbortSignal; onListening: (url: string) => void },
): Promise<void> {
  const text = await readFile(file, "utf8").catch(() => {
    throw new CLIUsageError(`rlm view: cannot read ${file}.`);
  });
  checkTrajectory(file, text);
  const html = await readFile(new URL("./viewer.html", import.meta.url), "utf8");
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(html);
    } else if (path === "/trajectory.json") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(text);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port, "127.0.0.1", resolve));
  options.onListening(`http://127.0.0.1:${(server.address() as AddressInfo).port}/?src=/trajectory.json`);
  await new Promise<void>((resolve) => {
    if (options.signal?.aborted) resolve();
    options.signal?.addEventListener("abort", () => resolve(), { once: true });
  });
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
}

function checkTrajectory(file: string, text: string): void {
  let data: { format?: unknown; version?: unknown };
  try {
    data = JSON.parse(text) as typeof data;
  } catch {
    throw new CLIUsageError(`rlm view: ${file} is not JSON. Pass a file written by --trajectory.`);
  }
  if (data?.format !== "rlm-trajectory")
    throw new CLIUsageError(`rlm view: ${file} is not an rlm trajectory. Pass a file written by --trajectory.`);
  if (data.version !== 1)
    throw new CLIUsageError(
      `rlm view: ${file} is trajectory version ${String(data.version)}; this rlm reads version 1.`,
    );
}
