import type { QuickJSContext } from "quickjs-emscripten-core";

/** The size of a WebAssembly memory page. */
const WASM_PAGE_BYTES = 65_536;
/**
 * Kept back from guest code, for the cell after an out-of-memory error: enough to run a cell that frees variables.
 * At least emscripten's smallest step (it grows the heap by 5% or more), so the reserve can be taken back by growing.
 */
const MIN_RESERVE_BYTES = 2 * 1024 * 1024;
const RESERVE_FRACTION = 0.06;

/** The parts of a quickjs-emscripten 0.32 module the cap uses (checked once per module). */
interface ModuleInternals {
  _malloc: (size: number) => number;
  _free: (ptr: number) => void;
  quickjsEmscriptenInit: (log: () => void) => { getWasmMemory?: () => unknown };
}

interface GrowableMemory {
  buffer: ArrayBuffer;
  grow: (pages: number) => number;
}

/**
 * Caps the memory of one QuickJS module: guest code may grow its WASM heap by about `limitBytes` beyond what it had
 * when the cap was installed (at least that, at most that plus 12% and 4 MB).
 *
 * QuickJS's own limit (`runtime.setMemoryLimit`) refuses single allocations larger than the limit but does not add
 * them up under emscripten, where `malloc_usable_size` is 0 (justjake/quickjs-emscripten#271): a cell could keep 200
 * strings of a megabyte each in a 32 MB sandbox, or 2 GB before its CPU deadline. Here the heap itself is capped:
 * the WASM memory's `grow` refuses to pass the cap, `malloc` returns NULL, and QuickJS raises its ordinary, catchable
 * `InternalError: out of memory`.
 *
 * - quickjs-emscripten allocates from JavaScript too (a cell's source, argument arrays, strings handed in) and writes
 *   to what it gets without checking for NULL. Those allocations go through the module's exported `_malloc`, which
 *   the cap wraps: they may grow the heap past the cap (they are bounded by the host's own limits and freed at once).
 * - A reserve is kept back from the guest. After guest code has been refused memory, the next cell gets it, so a
 *   REPL whose variables fill the heap can still run the cell that frees them; it is taken back once the cell ends,
 *   if there is room (up to the cap plus the reserve, never further).
 */
export class HeapCap {
  private hostAllocations = 0;
  /** While taking the reserve back: how far the heap may grow for it. */
  private hostCeilingBytes = Number.POSITIVE_INFINITY;
  private readonly guestCeilingBytes: number;
  private readonly reserveBytes: number;
  private reservePtr = 0;
  private refused = false;

  private constructor(
    memory: GrowableMemory,
    private readonly module: ModuleInternals,
    limitBytes: number,
  ) {
    const limitEndBytes = memory.buffer.byteLength + limitBytes;
    this.reserveBytes = Math.max(MIN_RESERVE_BYTES, Math.ceil(limitEndBytes * RESERVE_FRACTION));
    // The reserve lives in the heap too; with it, emscripten's 5% steps still let guest code reach `limitBytes`.
    this.guestCeilingBytes = limitEndBytes + this.reserveBytes;
    const grow = memory.grow.bind(memory);
    memory.grow = (pages: number) => {
      const afterBytes = memory.buffer.byteLength + pages * WASM_PAGE_BYTES;
      const ceilingBytes = this.hostAllocations > 0 ? this.hostCeilingBytes : this.guestCeilingBytes;
      if (afterBytes > ceilingBytes) {
        if (this.hostAllocations === 0) this.refused = true;
        // Caught by emscripten's heap resize, which then reports failure: malloc returns NULL.
        throw new RangeError("the sandbox's memory limit");
      }
      return grow(pages);
    };
    const malloc = module._malloc;
    module._malloc = (size: number) => {
      this.hostAllocations++;
      try {
        return malloc(size);
      } finally {
        this.hostAllocations--;
      }
    };
    this.takeReserve();
  }

  /**
   * Installs the cap on the module of `vm`, or returns undefined if that module lacks the internals it needs (a
   * quickjs-emscripten other than 0.32; `heap-cap.test.ts` fails then, so an upgrade cannot lose the cap silently).
   */
  static install(vm: QuickJSContext, limitBytes: number): HeapCap | undefined {
    const module = (vm as unknown as { module?: Partial<ModuleInternals> }).module;
    if (
      typeof module?._malloc !== "function" ||
      typeof module._free !== "function" ||
      typeof module.quickjsEmscriptenInit !== "function"
    )
      return undefined;
    const memory = module.quickjsEmscriptenInit(() => undefined).getWasmMemory?.() as Partial<GrowableMemory>;
    if (!(memory?.buffer instanceof ArrayBuffer) || typeof memory.grow !== "function") return undefined;
    return new HeapCap(memory as GrowableMemory, module as ModuleInternals, limitBytes);
  }

  /** Before a cell: if guest code has been refused memory since the reserve was taken, the cell gets the reserve. */
  beforeCell(): void {
    if (!this.refused || this.reservePtr === 0) return;
    this.module._free(this.reservePtr);
    this.reservePtr = 0;
  }

  /** After a cell: takes the reserve back if it was given out and there is room for it. */
  afterCell(): void {
    if (this.reservePtr === 0) this.takeReserve();
  }

  private takeReserve(): void {
    this.hostCeilingBytes = this.guestCeilingBytes + this.reserveBytes;
    try {
      this.reservePtr = this.module._malloc(this.reserveBytes);
    } finally {
      this.hostCeilingBytes = Number.POSITIVE_INFINITY;
    }
    if (this.reservePtr !== 0) this.refused = false;
  }
}
