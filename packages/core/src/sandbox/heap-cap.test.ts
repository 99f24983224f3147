import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HeapCap } from "./heap-cap.js";
import { type PreparedVM, prepareVM } from "./quickjs-repl.js";

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
  afterEach(() => {
    prepared.strings.dispose();
    for (const handle of [prepared.setUp, prepared.format, prepared.takeCalls, prepared.settleAll, prepared.forget])
      handle.dispose();
    prepared.vm.dispose();
    prepared.runtime.dispose();
  });

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
  const maxHeapBytes = () => (startBytes + LIMIT_BYTES) * 1.12 + 4 * MB;

  it("totals many allocations, each under the limit, and refuses past it with a catchable out-of-memory error", () => {
    // Each string is far under the limit (QuickJS's own check passes every one); without the cap all 2,000 (2 GB)
    // would be kept.
    const kept = run(
      "var keep = []; try { for (let i = 0; i < 2000; i++) keep.push('y'.repeat(1e6) + i) } catch (e) { String(e) + ' after ' + keep.length }",
    );
    const [, count] = /^InternalError: out of memory after (\d+)$/.exec(kept) ?? [];
    expect(Number(count)).toBeGreaterThanOrEqual(28); // about the limit's worth: 1 MB each
    expect(Number(count)).toBeLessThan(45);
    expect(heapBytes()).toBeLessThanOrEqual(maxHeapBytes());
    // Garbage freed, the room is there again.
    expect(run("keep = null; 'z'.repeat(20e6).length")).toBe("20000000");
  });

  it("bounds many small objects too", () => {
    expect(run("var objs = []; for (let i = 0; i < 1e8; i++) objs.push({ i })")).toBe("InternalError: out of memory");
    expect(heapBytes()).toBeLessThanOrEqual(maxHeapBytes());
  });

  it("gives the cell after an out-of-memory error the reserve, so a REPL whose variables fill the heap can free them", () => {
    // Variables hold everything (the failing cell keeps what it got).
    run("var keep = []; try { for (;;) keep.push('y'.repeat(1e5) + keep.length) } catch {}");
    run("var more = []; try { for (;;) more.push({}) } catch {}");
    cap.afterCell();
    cap.beforeCell();
    expect(run("keep = null; more = null; 'freed'")).toBe("freed");
    cap.afterCell();
    expect(run("'z'.repeat(20e6).length")).toBe("20000000");
    expect(heapBytes()).toBeLessThanOrEqual(maxHeapBytes());
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
