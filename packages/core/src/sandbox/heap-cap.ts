import type { QuickJSContext } from "quickjs-emscripten-core";

/** The size of a WebAssembly memory page. */
const WASM_PAGE_BYTES = 65_536;
/** Room past the limit for the cells after an out-of-memory error: enough to run a cell that frees variables. */
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
 * Thrown (from JavaScript, before any C code runs) when quickjs-emscripten or this package cannot get WASM memory
 * for something it hands to QuickJS: the cell ends with an out-of-memory error and the REPL stays usable.
 */
export class SandboxMemoryError extends RangeError {
  /** @param what what did not fit, e.g. "123 more bytes" */
  constructor(what: string) {
    super(`out of memory: the sandbox has no room for ${what}`);
    this.name = "SandboxMemoryError";
  }
}

/**
 * Caps the memory of one QuickJS module. Guest code may grow its WASM heap by about `limitBytes` beyond what it had
 * when the cap was installed (emscripten grows it in steps of 5% or more, so a little less); the whole heap never
 * grows past twice that (plus a reserve).
 *
 * QuickJS's own limit (`runtime.setMemoryLimit`) refuses single allocations larger than the limit but does not add
 * them up under emscripten, where `malloc_usable_size` is 0 (justjake/quickjs-emscripten#271): a cell could keep 200
 * strings of a megabyte each in a 32 MB sandbox, or 2 GB before its CPU deadline. Here the heap itself is capped:
 * the WASM memory's `grow` refuses to pass the cap, `malloc` returns NULL, and QuickJS raises its ordinary, catchable
 * `InternalError: out of memory`.
 *
 * - **The host's allocations.** quickjs-emscripten allocates from JavaScript too (a cell's source, argument arrays;
 *   this package, the bytes of strings it hands in) and writes to what it gets without checking for NULL. Those go
 *   through the module's exported `_malloc`, which the cap wraps: while they are outstanding they are lent, not
 *   counted against guest code (so a string of nearly `limitBytes` can still be handed in: its bytes, then QuickJS's
 *   copy); together they may take the heap up to `limitBytes` past the guest's ceiling, never further; and a NULL
 *   becomes a {@link SandboxMemoryError} thrown before anything is written. (Guest code can reuse the room they
 *   leave, hence "twice".)
 * - **A reserve.** After guest code has been refused memory, the cells that follow may grow the heap a little
 *   further, until guest code has room of its own again, so a REPL whose variables fill the heap can still run the
 *   cell that frees them. When not even a cell's source fits, the REPL restarts (see `QuickJSRepl.exec`). (Nothing
 *   is allocated for it up front: growing a fresh sandbox's memory costs a V8 GC.)
 */
export class HeapCap {
  private readonly baseCeilingBytes: number;
  private readonly hostCeilingBytes: number;
  private readonly reserveBytes: number;
  /** Outstanding host allocations and their sizes. */
  private readonly lent = new Map<number, number>();
  private lentBytes = 0;
  private hostAllocations = 0;
  /** Guest code was refused memory and has not made room since: cells may use the reserve. */
  private refused = false;
  private refusedInCell = false;
  /** Allocating as guest code would (see `guestHasRoom`). */
  private probing = false;

  private constructor(
    memory: GrowableMemory,
    private readonly module: ModuleInternals,
    limitBytes: number,
  ) {
    const limitEndBytes = memory.buffer.byteLength + limitBytes;
    this.reserveBytes = Math.max(MIN_RESERVE_BYTES, Math.ceil(limitEndBytes * RESERVE_FRACTION));
    // Emscripten grows the heap in steps of 5% or more: guest code reaches at least 95% of this.
    this.baseCeilingBytes = limitEndBytes;
    this.hostCeilingBytes = this.baseCeilingBytes + this.reserveBytes + limitBytes;
    const grow = memory.grow.bind(memory);
    memory.grow = (pages: number) => {
      const afterBytes = memory.buffer.byteLength + pages * WASM_PAGE_BYTES;
      const host = this.hostAllocations > 0 && !this.probing;
      const guestBytes =
        this.baseCeilingBytes + this.lentBytes + (this.refused && !this.probing ? this.reserveBytes : 0);
      const ceilingBytes = host ? this.hostCeilingBytes : Math.min(this.hostCeilingBytes, guestBytes);
      if (afterBytes > ceilingBytes) {
        if (!host && !this.probing) this.refusedInCell = true;
        // Caught by emscripten's heap resize, which then reports failure: malloc returns NULL.
        throw new RangeError("the sandbox's memory limit");
      }
      return grow(pages);
    };
    const malloc = module._malloc;
    const free = module._free;
    module._malloc = (size: number) => {
      this.hostAllocations++;
      let ptr: number;
      try {
        ptr = malloc(size);
      } finally {
        this.hostAllocations--;
      }
      if (ptr === 0) throw new SandboxMemoryError(`${size} more bytes`);
      this.lent.set(ptr, size);
      this.lentBytes += size;
      return ptr;
    };
    module._free = (ptr: number) => {
      const size = this.lent.get(ptr);
      if (size !== undefined) {
        this.lent.delete(ptr);
        this.lentBytes -= size;
      }
      free(ptr);
    };
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

  /** Whether guest code has been refused memory during the current cell. */
  get refusedDuringCell(): boolean {
    return this.refusedInCell;
  }

  /** Before a cell. */
  beforeCell(): void {
    this.refusedInCell = false;
  }

  /**
   * After a cell: after a refusal, the cells that follow may use the reserve, until guest code has room of its own
   * again (a cell that only looked around has not made any).
   */
  afterCell(): void {
    if (this.refusedInCell) this.refused = true;
    else if (this.refused) this.refused = !this.guestHasRoom();
  }

  /** Whether guest code could allocate as much as the reserve without it. */
  private guestHasRoom(): boolean {
    this.probing = true;
    try {
      this.module._free(this.module._malloc(this.reserveBytes));
      return true;
    } catch (error) {
      if (!(error instanceof SandboxMemoryError)) throw error;
      return false;
    } finally {
      this.probing = false;
    }
  }
}
