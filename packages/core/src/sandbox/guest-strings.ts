import type { QuickJSContext, QuickJSHandle } from "quickjs-emscripten-core";
import { SandboxMemoryError } from "./heap-cap.js";

/**
 * The parts of a quickjs-emscripten 0.32 context the fast path uses. They are not public API, so they are checked
 * once per context, and a context without them gets the public `newString`.
 */
interface ContextInternals {
  ctx: { value: number };
  ffi: {
    QTS_NewString: (ctx: number, string: number) => number;
    QTS_GetString: (ctx: number, value: number) => number;
    QTS_FreeCString: (ctx: number, string: number) => void;
    QTS_ResolveException: (ctx: number, value: number) => number;
    QTS_FreeValuePointer: (ctx: number, value: number) => void;
  };
  memory: { heapValueHandle: (ptr: number) => QuickJSHandle };
  module: { _malloc: (size: number) => number; _free: (ptr: number) => void; HEAPU8: Uint8Array };
}

/** Below this many characters the public `newString` is as fast. */
const FAST_MIN_CHARS = 256;
const encoder = new TextEncoder();
// `ignoreBOM`: a string that starts with U+FEFF keeps it (by default the decoder drops it).
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Moves strings between this thread and QuickJS.
 *
 * Makes QuickJS strings from this thread's strings. quickjs-emscripten's `newString` encodes UTF-8 in a JavaScript
 * loop (measured: ~4.6 ns a character, 0.2-0.45 s for 45 MB) and passes a C string, which ends at the first NUL. Here
 * a long string is encoded natively by `TextEncoder.encodeInto` straight into the WASM heap (~8x faster), and a
 * string with a NUL in it crosses as JSON, so it arrives whole. Strings with lone surrogates, which `encodeInto`
 * would replace, take the public path.
 */
export class GuestStrings {
  private readonly internals: ContextInternals | undefined;

  /**
   * @param parseJSON the guest's own `JSON.parse`, and `stringifyJSON` its `JSON.stringify`, captured before any model
   *   code ran (owned: see `dispose`)
   */
  constructor(
    private readonly vm: QuickJSContext,
    private readonly parseJSON: QuickJSHandle,
    private readonly stringifyJSON: QuickJSHandle,
  ) {
    this.internals = internalsOf(vm);
  }

  /** Whether long strings take the native path (false if quickjs-emscripten's internals have changed). */
  get native(): boolean {
    return this.internals !== undefined;
  }

  newString(text: string): QuickJSHandle {
    if (text.includes("\0")) return this.viaJSON(text);
    const internals = this.internals;
    if (internals === undefined || text.length < FAST_MIN_CHARS || !isWellFormed(text)) return this.vm.newString(text);
    const bytes = Buffer.byteLength(text, "utf8");
    return fromCString(internals, bytes + 1, `a string of ${text.length} characters`, (heap, ptr) => {
      const { written } = encoder.encodeInto(text, heap.subarray(ptr, ptr + bytes));
      heap[ptr + written] = 0;
    });
  }

  /** A guest string from {@link encodeForGuest}'s bytes (made in another thread): one copy into the WASM heap. */
  newStringFromUtf8(utf8: Uint8Array): QuickJSHandle {
    if (utf8.length === 0 || utf8[utf8.length - 1] !== 0)
      throw new TypeError("newStringFromUtf8: the bytes must end in a NUL");
    const internals = this.internals;
    if (internals === undefined) return this.vm.newString(decoder.decode(utf8.subarray(0, utf8.length - 1)));
    return fromCString(internals, utf8.length, `a string of ${utf8.length - 1} UTF-8 bytes`, (heap, ptr) =>
      heap.set(utf8, ptr),
    );
  }

  /**
   * A guest string as this thread's string, decoded natively (about twice as fast as `getString`, which looks for
   * the end of the C string in a JavaScript loop). Like `getString`, it ends at a NUL and gives U+FFFD for a lone
   * surrogate.
   */
  getString(handle: QuickJSHandle): string {
    const internals = this.internals;
    if (internals === undefined) return this.vm.getString(handle);
    const { ctx, ffi, module } = internals;
    const ptr = ffi.QTS_GetString(ctx.value, handle.value as number);
    if (ptr === 0) throw new SandboxMemoryError("a string"); // QuickJS had no memory for the C copy
    try {
      const heap = module.HEAPU8;
      const end = heap.indexOf(0, ptr);
      return decoder.decode(heap.subarray(ptr, end === -1 ? heap.length : end));
    } finally {
      ffi.QTS_FreeCString(ctx.value, ptr);
    }
  }

  /**
   * A guest string exactly, NULs and lone surrogates included: decoded natively when that gives it whole (its length
   * matches and nothing was replaced), else through the guest's JSON (or, if QuickJS has no memory left for that
   * copy, as decoded). For strings that must not change on the way (`Text` method arguments, printed lines, a cell's
   * value); costs a length check more than `getString`.
   */
  getExactString(handle: QuickJSHandle): string {
    const text = this.getString(handle);
    // A NUL shortens the decoded string; a lone surrogate turns into U+FFFD (so does a real U+FFFD: it takes the
    // slow path, still exact).
    if (!text.includes("\uFFFD")) {
      const length = this.vm.getProp(handle, "length");
      const exact = this.vm.getNumber(length) === text.length;
      length.dispose();
      if (exact) return text;
    }
    const result = this.vm.callFunction(this.stringifyJSON, this.vm.undefined, handle);
    if (result.error) {
      // Out of memory for the JSON copy (a huge string): the decoded text is the best there is.
      result.error.dispose();
      return text;
    }
    try {
      return JSON.parse(this.getString(result.value)) as string;
    } finally {
      result.value.dispose();
    }
  }

  dispose(): void {
    if (this.parseJSON.alive) this.parseJSON.dispose();
    if (this.stringifyJSON.alive) this.stringifyJSON.dispose();
  }

  private viaJSON(text: string): QuickJSHandle {
    const json = this.newString(JSON.stringify(text));
    try {
      return this.vm.unwrapResult(this.vm.callFunction(this.parseJSON, this.vm.undefined, json));
    } finally {
      json.dispose();
    }
  }
}

/**
 * A long string as UTF-8 for {@link GuestStrings.newStringFromUtf8}: NUL-terminated, in a buffer of its own, so it
 * can be transferred to a worker instead of copied (a string crossing threads is copied twice, and the copy the
 * worker makes is a V8 string it then encodes again). `undefined` for a string that must cross as a string: one with
 * a NUL (the C string would end there) or a lone surrogate (UTF-8 cannot carry it).
 */
export function encodeForGuest(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (text.includes("\0") || !isWellFormed(text)) return undefined;
  const utf8 = new Uint8Array(Buffer.byteLength(text, "utf8") + 1);
  encoder.encodeInto(text, utf8);
  return utf8;
}

/** Makes a guest string from the C string `write` puts into a fresh `size`-byte block of the WASM heap. */
function fromCString(
  { ctx, ffi, memory, module }: ContextInternals,
  size: number,
  what: string,
  write: (heap: Uint8Array, ptr: number) => void,
): QuickJSHandle {
  const ptr = module._malloc(size);
  if (ptr === 0) throw new SandboxMemoryError(what);
  let value: number;
  try {
    write(module.HEAPU8, ptr); // read after malloc: growing the memory replaces the view
    value = ffi.QTS_NewString(ctx.value, ptr);
  } finally {
    module._free(ptr);
  }
  // QuickJS had no memory for the string (see heap-cap.ts): the value is its pending exception.
  const exception = value === 0 ? 0 : ffi.QTS_ResolveException(ctx.value, value);
  if (value === 0 || exception !== 0) {
    if (exception !== 0) ffi.QTS_FreeValuePointer(ctx.value, exception);
    if (value !== 0) ffi.QTS_FreeValuePointer(ctx.value, value);
    throw new SandboxMemoryError(what);
  }
  return memory.heapValueHandle(value);
}

function internalsOf(vm: QuickJSContext): ContextInternals | undefined {
  const v = vm as unknown as Partial<ContextInternals>;
  const ok =
    typeof v.ctx?.value === "number" &&
    typeof v.ffi?.QTS_NewString === "function" &&
    typeof v.ffi?.QTS_GetString === "function" &&
    typeof v.ffi?.QTS_FreeCString === "function" &&
    typeof v.ffi?.QTS_ResolveException === "function" &&
    typeof v.ffi?.QTS_FreeValuePointer === "function" &&
    typeof v.memory?.heapValueHandle === "function" &&
    typeof v.module?._malloc === "function" &&
    typeof v.module?._free === "function" &&
    v.module?.HEAPU8 instanceof Uint8Array;
  return ok ? (v as ContextInternals) : undefined;
}

/** `String.prototype.isWellFormed` (Node 20+; not in this project's ES2023 `lib`). */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed();
}
