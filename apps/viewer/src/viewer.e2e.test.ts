/**
 * The viewer in a real headless Chromium (Debian's `chromium`, driven by playwright-core). The setup installs
 * Chromium with apt when it is missing, as CI must.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeTrajectory } from "./test/make-trajectory.js";

const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));
const HTML = fileURLToPath(new URL("../dist/index.html", import.meta.url));

function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  const apt = (args: string[]) =>
    execFileSync("apt-get", args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  apt(["update"]);
  apt(["install", "-y", "--no-install-recommends", "chromium"]);
}

let server: Server;
let base = "";
let browser: Browser;
const files = new Map<string, string>();

beforeAll(async () => {
  ensureChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
  files.set("/trajectory.json", JSON.stringify(await makeTrajectory(100)));
  files.set("/big.json", JSON.stringify(await makeTrajectory(1_000)));
  files.set("/bad.json", '{"this is": "not a trajectory"');
  files.set("/future.json", JSON.stringify({ format: "rlm-trajectory", version: 7, root: { iterations: [] } }));
  const html = readFileSync(HTML, "utf8");
  server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] as string;
    const body = path === "/" ? html : files.get(path);
    res.writeHead(body === undefined ? 404 : 200, { "content-type": path === "/" ? "text/html" : "application/json" });
    res.end(body ?? "not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

async function open(src: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${base}/?src=${src}`);
  return page;
}

describe("trajectory viewer in Chromium", () => {
  it("shows the call tree, a node's details and a timeline where concurrent sub-calls sit side by side", async () => {
    const page = await open("/trajectory.json");
    await page.waitForSelector("#viewer:not([hidden])");
    expect(await page.textContent("#fact-subcalls")).toContain("105");
    expect(await page.textContent("#answer")).toContain("100 parts; middle<bottom:");

    // The tree: the root run, its iteration, the cell, its 100 sub-calls.
    const rootRow = page.locator('.row[data-kind="run"]').first();
    expect(await rootRow.textContent()).toContain("Run: top");
    const cellRow = page.locator('.row[data-kind="cell"]').first();
    await cellRow.locator(".label").click();
    expect(await page.textContent("#detail h2")).toContain("Code cell 1 · 101 sub-calls");
    expect(await page.textContent("#detail pre.code")).toContain("Promise.all");

    // Open a child run through its rlm_query sub-call.
    await page.fill("#search", "rlm_query: middle");
    const callRow = page.locator('.row[data-kind="subcall"]', { hasText: "rlm_query: middle" });
    await callRow.locator(".label").click();
    await page.click("#detail button.link");
    expect(await page.textContent("#detail h2")).toContain("Child run (depth 1): middle");
    await page.fill("#search", "");

    // The timeline: 100 overlapping calls cannot share one lane.
    const lanes = Number(await page.getAttribute("#timeline svg", "data-lanes"));
    const inFlight = Number(await page.getAttribute("#timeline svg", "data-max-concurrency"));
    // concurrency 25: at most 25 requests in flight, the rest waiting for a slot.
    expect(inFlight).toBeGreaterThanOrEqual(20);
    expect(inFlight).toBeLessThanOrEqual(25);
    expect(lanes).toBeGreaterThanOrEqual(inFlight);
    expect(await page.locator(".bar.call").count()).toBe(105);

    await page.screenshot({ path: `${ARTIFACTS}viewer-depth2-fanout100.png`, fullPage: true });
    await page.close();
  });

  it("handles a run with 1,000 sub-calls without freezing: only a window of tree rows is in the DOM", async () => {
    const page = await open("/big.json");
    await page.waitForSelector("#viewer:not([hidden])", { timeout: 10_000 });
    expect(Number(await page.getAttribute("#tree", "data-rows"))).toBeGreaterThan(1_000);
    expect(await page.locator(".row").count()).toBeLessThan(120);
    await page.locator("#tree").evaluate((tree) => {
      tree.scrollTop = 800 * 26;
      tree.dispatchEvent(new Event("scroll"));
    });
    expect(await page.locator(".row", { hasText: "chunk 79" }).count()).toBeGreaterThan(0);
    await page.close();
  });

  it("a malformed file or an unknown version shows an error, not a blank page", async () => {
    const bad = await open("/bad.json");
    await bad.waitForSelector("#error:not([hidden])");
    expect(await bad.textContent("#error")).toMatch(/not JSON/);
    expect(await bad.isVisible("#viewer")).toBe(false);
    await bad.screenshot({ path: `${ARTIFACTS}viewer-malformed.png` });
    await bad.close();

    const future = await open("/future.json");
    await future.waitForSelector("#error:not([hidden])");
    expect(await future.textContent("#error")).toMatch(/version 7; this viewer reads version 1/);
    await future.close();
  });
});
