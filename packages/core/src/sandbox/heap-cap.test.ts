import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRLM } from "../engine/create-rlm.js";
import { codeReply, createScriptedModel } from "../test/index.js";
import type { CellTrace } from "../trajectory/trajectory-types.js";
import { HeapCap, SandboxMemoryError } from "./heap-cap.js";
import { disposePreparedVM, type PreparedVM, prepareVM } from "./quickjs-repl.js";

const MB = 1024 * 1024;
const LIMIT_BYTES = 32 * MB;

describe("HeapCap", () => {
  let prepared: PreparedVM;
  let cap: HeapCap;
  let heapBytes: () => number;
  let startBytes: number;
  beforeEach(async () => {
    prepared = await prepareVM(false);
    const module = (prepared.vm as unknown as { module: { quickjsEmscriptenInit: (log: () => void) => unknown } })
      .module;
    const memory = (
      module.quickjsEmscriptenInit(() => undefined) as { getWasmMemory: () => { buffer: ArrayBuffer } }
    ).getWasmMemory();
    heapBytes = () => memory.buffer.byteLength;
    startBytes = heapBytes();
    const installed = HeapCap.install(prepared.vm, LIMIT_BYTES);
    // quickjs-emscripten 0.32's internals: if an upgrade loses them, this fails rather than the cap going silently.
    expect(installed).toBeDefined();
    cap = installed as HeapCap;
  });
  afterEach(() => disposePreparedVM(prepared));

  const run = (code: string): string => {
    const result = prepared.vm.evalCode(code);
    if (result.error) {
      const error = prepared.vm.dump(result.error) as { name: string; message: string };
      result.error.dispose();
      return `${error.name}: ${error.message}`;
    }
    const value = prepared.vm.dump(result.value) as unknown;
    result.value.dispose();
    return String(value);
  };
  // Guest code is refused past the limit; then it may use a reserve, and the host may lend the limit again for what
  // it hands in.
  const maxGuestBytes = () => startBytes + LIMIT_BYTES;
  const maxHeapBytes = () => maxGuestBytes() * 1.06 + 2 * MB + LIMIT_BYTES;

  it("totals many allocations, each under the limit, and refuses past it with a catchable out-of-memory error", () => {
    // Each string is far under the limit (QuickJS's own check passes every one); without the cap all 2,000 (2 GB)
    // would be kept.
    const kept = run(
      "var keep = []; try { for (let i = 0; i < 2000; i++) keep.push('y'.repeat(1e6) + i) } catch (e) { String(e) + ' after ' + keep.length }",
    );
    const [, count] = /^InternalError: out of memory after (\d+)$/.exec(kept) ?? [];
    expect(Number(count)).toBeGreaterThanOrEqual(28); // about the limit's worth: 1 MB each
    expect(Number(count)).toBeLessThan(45);
    expect(heapBytes()).toBeLessThanOrEqual(maxGuestBytes());
    // Garbage freed, the room is there again.
    expect(run("keep = null; 'z'.repeat(20e6).length")).toBe("20000000");
  });

  it("bounds many small objects too", () => {
    // (With no memory left for the error itself, quickjs-emscripten hands back a NULL, which reads as undefined; the
    // REPL reports that as out of memory too.)
    expect(run("var objs = []; for (let i = 0; i < 1e8; i++) objs.push({ i })")).toMatch(
      /^(InternalError: out of memory|undefined: undefined)$/,
    );
    expect(heapBytes()).toBeLessThanOrEqual(maxGuestBytes());
  });

  it("gives the cell after an out-of-memory error the reserve, so a REPL whose variables fill the heap can free them", () => {
    // Variables hold everything (the failing cell keeps what it got).
    run("var keep = []; try { for (;;) keep.push('y'.repeat(1e5) + keep.length) } catch {}");
    run("var more = []; try { for (;;) more.push({}) } catch {}");
    cap.afterCell();
    // A cell that only looks around (it runs in the reserve and frees nothing) ...
    cap.beforeCell();
    expect(run("typeof keep")).toBe("object");
    cap.afterCell();
    // ... and the next cell still gets the reserve.
    cap.beforeCell();
    expect(run("keep = null; more = null; 'freed'")).toBe("freed");
    cap.afterCell();
    expect(run("'z'.repeat(20e6).length")).toBe("20000000");
    expect(heapBytes()).toBeLessThanOrEqual(maxHeapBytes());
  });

  it("bounds the whole heap when guest code keeps it full and makes the host allocate again and again", () => {
    // Each string the host hands in is allocated from JavaScript while the heap is full; emscripten grows the heap by
    // 20% for it and the guest fills the rest. Without a ceiling for the host too, this reached the 2 GB maximum.
    const payload = "x".repeat(50_000);
    prepared.vm
      .newFunction("grab", () => prepared.strings.newString(payload))
      .consume((fn) => prepared.vm.setProp(prepared.vm.global, "grab", fn));
    const kept = run(`var keep = [], head = null;
      for (let r = 0; r < 30; r++) {
        try { for (;;) keep.push('y'.repeat(1e5) + keep.length) } catch {}
        try { for (;;) head = { n: head } } catch {}
        for (let i = 0; i < 100 && head; i++) head = head.n;
        try { keep.push(grab()) } catch {}
      }
      head = null; keep.length`);
    expect(Number(kept)).toBeGreaterThan(0);
    expect(heapBytes()).toBeLessThanOrEqual(maxHeapBytes());
  });

  it("refuses a host allocation with no room by throwing before anything is written", () => {
    run("var keep = [], more = []; try { for (;;) keep.push('y'.repeat(1e5) + keep.length) } catch {}");
    run("try { for (;;) more.push({}) } catch {}");
    const { module } = prepared.vm as unknown as { module: { HEAPU8: Uint8Array } };
    const low = () => Array.from(module.HEAPU8.subarray(0, 64)).join();
    const before = low();
    // quickjs-emscripten would write a cell's source at address 0 if its malloc returned NULL.
    expect(() => prepared.vm.evalCode(`/*${"Z".repeat(LIMIT_BYTES + 8 * MB)}*/ 1`)).toThrow(SandboxMemoryError);
    expect(low()).toBe(before);
  });

  it("lets the host's own allocations through: strings handed in past the cap arrive or fail cleanly", () => {
    run("var keep = []; try { for (;;) keep.push('y'.repeat(1e6) + keep.length) } catch {}");
    // quickjs-emscripten writes a string's bytes into memory it allocates from JavaScript: that must not fail.
    const short = prepared.vm.newString("x".repeat(100));
    expect(prepared.vm.getString(short)).toHaveLength(100);
    short.dispose();
    // A long one that QuickJS itself has no room for is refused with an error, not a crash.
    expect(() => prepared.strings.newString("x".repeat(10 * MB))).toThrow(/out of memory/);
    expect(run("keep.length > 0")).toBe("true");
  });
});

describe("a sandbox whose memory is full, through the loop", () => {
  it("tells the model, keeps the REPL while a cell can start, and restarts it when none can", async () => {
    const cells = [
      // Keeps the heap full while making the host hand in strings again and again.
      `var keep = [], head = null, n = 0;
      for (let r = 0; r < 30; r++) {
        try { for (;;) keep.push('y'.repeat(1e5) + keep.length) } catch {}
        try { for (;;) head = { n: head } } catch {}
        for (let i = 0; i < 100 && head; i++) head = head.n;
        try { keep.push(context.slice(0, 70000)); n++ } catch {} // 64K+ characters: handed in as UTF-8
      }
      head = null; print('kept', keep.length)`,
      // Fills what is left, the reserve included.
      "var fill = null; try { for (;;) fill = { s: 'q'.repeat(1000) + Math.random(), n: fill } } catch {} try { for (;;) fill = { n: fill } } catch {}",
      `/*${"Z".repeat(8000)}*/ 'a cell with a long source'`,
      "print(typeof keep)",
    ];
    const model = createScriptedModel({ replies: [...cells.map((c) => codeReply(c)), codeReply("FINAL('done')")] });
    const rlm = createRLM({ model, sandbox: { memoryLimitBytes: LIMIT_BYTES, stepTimeoutMs: 20_000 } });
    const result = await rlm.run({ query: "q", context: "a".repeat(2_000_000) });
    const [kept, filled, long, after] = result.trajectory.root.iterations.map((i) => i.cells[0] as CellTrace);
    // Bounded: 100 KB strings, at most about twice the limit's worth.
    const [, count] = /^kept (\d+)/.exec(kept?.output ?? "") ?? [];
    expect(Number(count)).toBeGreaterThan(200);
    expect(Number(count)).toBeLessThan(((2 * LIMIT_BYTES + 24 * MB) / 1e5) | 0);
    expect(filled?.error?.message).toMatch(/^out of memory: the sandbox may hold sandbox.memoryLimitBytes = 33554432/);
    expect(long?.error?.message).toMatch(
      /the REPL's variables fill sandbox.memoryLimitBytes = 33554432 and no cell can start/,
    );
    expect(long?.sandboxReset).toBe(true); // the model is told its variables are gone
    expect(after?.output).toBe("undefined\n"); // a fresh REPL
    expect(result.answer).toBe("done");
  });
});
