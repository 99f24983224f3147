import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import debugSyncModule from "@jitl/quickjs-wasmfile-debug-sync";
import releaseSyncModule from "@jitl/quickjs-wasmfile-release-sync";
// The core package and the two sync variants, not `quickjs-emscripten`, which loads every variant (~5 MB a worker).
import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSContext,
  type QuickJSHandle,
  type QuickJSRuntime,
  type QuickJSSyncVariant,
} from "quickjs-emscripten-core";
import type { TextSource } from "./context-store.js";
import { GUEST_PRELUDE } from "./guest-prelude.js";
import { GuestStrings } from "./guest-strings.js";
import { HeapCap, SandboxMemoryError } from "./heap-cap.js";
import { OutputBuffer } from "./output-buffer.js";
import {
  type CallResult,
  type CellOutcome,
  isSerializedErrorMarker,
  isTextRef,
  type OutgoingCall,
  type ReplMessage,
  type SandboxCallKind,
  type SerializedError,
  type WorkerInit,
} from "./protocol.js";

/**
 * The WASM is compiled once per worker and instantiated per sandbox (about 1 ms): each sandbox still gets a fresh
 * module, whose memory goes away with it.
 */
const require = createRequire(import.meta.url);
// (The WebAssembly global is not in this project's `lib`; Node has it.)
const { WebAssembly: wasm } = globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => never } };
const compile = (specifier: string) => new wasm.Module(readFileSync(require.resolve(specifier)));
/** The variant packages' types describe their ESM build as CommonJS (`{ default }`); at run time it is the variant. */
const variantOf = (imported: unknown): QuickJSSyncVariant =>
  (imported as { default?: QuickJSSyncVariant }).default ?? (imported as QuickJSSyncVariant);
/**
 * Emscripten prints an abort to stderr as well as throwing it. The release build aborts when QuickJS frees a
 * runtime whose promise job was interrupted (a cell stopped mid-`await` chain): the throw is handled (the module is
 * dropped, see `dispose`), so the print would only alarm the user. The debug build keeps printing: its leak reports
 * are findings.
 */
const quietEmscripten = { printErr: () => undefined } as NonNullable<
  NonNullable<Parameters<typeof newVariant>[1]>["emscriptenModule"]
>;
const RELEASE_VARIANT = newVariant(variantOf(releaseSyncModule), {
  wasmModule: compile("@jitl/quickjs-wasmfile-release-sync/wasm"),
  emscriptenModule: quietEmscripten,
});
let debugVariant: typeof RELEASE_VARIANT | undefined;
const DEBUG_VARIANT_LAZY = () => {
  debugVariant ??= newVariant(variantOf(debugSyncModule), {
    wasmModule: compile("@jitl/quickjs-wasmfile-debug-sync/wasm"),
  });
  return debugVariant;
};

/** `JS_EVAL_FLAG_ASYNC` from quickjs.h: top-level `await`, and `evalCode` returns a promise of `{ value }`. */
const JS_EVAL_FLAG_ASYNC = 1 << 7;

interface Cell {
  id: number;
  output: OutputBuffer;
  cpuMs: number;
  promise?: QuickJSHandle;
  calls: Set<number>;
  final?: { answer: string; json?: string };
  interrupted: "cpu" | "cancel" | undefined;
}

interface PendingCall {
  cellId: number;
  kind: SandboxCallKind;
}

/** What the guest's host functions reach: set when a run takes the VM. */
interface Binding {
  repl: QuickJSRepl | undefined;
  texts: TextSource | undefined;
  stepTimeoutMs: number;
}

/**
 * A fresh QuickJS module, runtime and context with the guest API evaluated, not yet given to a run. Making one takes
 * a few milliseconds (and a new WASM memory, which tends to start a V8 GC), so the worker keeps one ready while idle.
 */
export interface PreparedVM {
  runtime: QuickJSRuntime;
  vm: QuickJSContext;
  binding: Binding;
  setUp: QuickJSHandle;
  format: QuickJSHandle;
  takeCalls: QuickJSHandle;
  settleAll: QuickJSHandle;
  forget: QuickJSHandle;
  /** Makes the guest's strings (owns a handle: freed with the REPL, or by `create` if that fails). */
  strings: GuestStrings;
}

/** Makes a fresh module (the debug build reports leaked handles) and evaluates the guest API in it. */
export async function prepareVM(debug: boolean): Promise<PreparedVM> {
  const module = await newQuickJSWASMModuleFromVariant(debug ? DEBUG_VARIANT_LAZY() : RELEASE_VARIANT);
  const runtime = module.newRuntime();
  const vm = runtime.newContext();
  const binding: Binding = { repl: undefined, texts: undefined, stepTimeoutMs: 0 };
  // Made once the prelude has run (it needs the guest's own JSON.parse); host functions run only after that.
  let strings: GuestStrings;
  const host = vm.newObject();
  vm.newFunction("queued", () => {
    if (binding.repl !== undefined) binding.repl.callsQueued = true;
  }).consume((fn) => vm.setProp(host, "queued", fn));
  vm.newFunction("stash", (text, length) => {
    const repl = binding.repl;
    if (repl === undefined) return vm.newNumber(-1);
    const value = strings.getString(text);
    // A NUL ends the C string it crosses as: such a string goes as JSON instead.
    return vm.newNumber(value.length === vm.getNumber(length) ? repl.stash(value) : -1);
  }).consume((fn) => vm.setProp(host, "stash", fn));
  vm.newFunction("log", (line) => {
    binding.repl?.cell?.output.writeLine(strings.getExactString(line));
  }).consume((fn) => vm.setProp(host, "log", fn));
  vm.newFunction("final", (answer, json) => {
    const cell = binding.repl?.cell;
    if (cell === undefined) return;
    const jsonText = vm.typeof(json) === "string" ? vm.getString(json) : undefined;
    const text = JSON.parse(vm.getString(answer)) as string;
    cell.final = { answer: text, ...(jsonText === undefined ? {} : { json: jsonText }) };
  }).consume((fn) => vm.setProp(host, "final", fn));
  vm.newFunction("text", (id, op, ...args) => {
    const texts = binding.texts;
    if (texts === undefined) throw new Error("the sandbox has no context yet");
    const result = texts.op(
      vm.getNumber(id),
      vm.getString(op),
      args.map((a) => (vm.typeof(a) === "string" ? strings.getExactString(a) : vm.dump(a))),
      binding.repl?.cpuLeftMs() ?? binding.stepTimeoutMs,
    );
    // A long result (a slice, the whole text) is the common case worth the native path.
    if (typeof result === "string") return strings.newString(result);
    if (typeof result === "object") return strings.newStringFromUtf8(result.utf8);
    return toHandle(vm, result);
  }).consume((fn) => vm.setProp(host, "text", fn));

  const prelude = vm.unwrapResult(vm.evalCode(GUEST_PRELUDE, "rlm-prelude.js"));
  const api = vm.unwrapResult(vm.callFunction(prelude, vm.undefined, host));
  prelude.dispose();
  host.dispose();
  strings = new GuestStrings(vm, vm.getProp(api, "parseJSON"), vm.getProp(api, "stringifyJSON"));
  const prepared: PreparedVM = {
    runtime,
    vm,
    binding,
    setUp: vm.getProp(api, "setUp"),
    format: vm.getProp(api, "format"),
    takeCalls: vm.getProp(api, "takeCalls"),
    settleAll: vm.getProp(api, "settleAll"),
    forget: vm.getProp(api, "forget"),
    strings,
  };
  api.dispose();
  return prepared;
}

/** Frees a prepared VM that no REPL took (a REPL frees its own with `dispose`). */
export function disposePreparedVM(prepared: PreparedVM): void {
  for (const handle of [prepared.setUp, prepared.format, prepared.takeCalls, prepared.settleAll, prepared.forget])
    if (handle.alive) handle.dispose();
  prepared.strings.dispose();
  prepared.vm.dispose();
  prepared.runtime.dispose();
}

/**
 * One QuickJS REPL, living inside the sandbox worker: a fresh WASM module, a runtime with memory, stack and CPU
 * limits, the guest API, and the run's context. Runs cells one at a time; host calls made by a cell are posted to
 * the host and resolved when their results come back, so any number can be in flight at once.
 */
export class QuickJSRepl {
  /** The running cell (read by the guest's host functions). */
  cell: Cell | undefined;
  private readonly pending = new Map<number, PendingCall>();
  /** Guest code queued host calls during the current slice (the prelude says so once per slice). */
  callsQueued = false;
  /** Long string arguments of the calls queued in this slice, handed over by the guest (see the prelude's encodeArg). */
  private stashed: string[] = [];
  private sliceStartMs = 0;
  private disposed = false;
  /** Caps QuickJS's heap at `memoryLimitBytes` (set by `create`; undefined if quickjs-emscripten's internals changed). */
  private heapCap: HeapCap | undefined;

  private constructor(
    private readonly init: WorkerInit,
    private readonly runtime: QuickJSRuntime,
    private readonly vm: QuickJSContext,
    private readonly send: (message: ReplMessage) => void,
    private readonly format: QuickJSHandle,
    /** Guest functions that hand over queued host calls, and settle and forget their promises. */
    private readonly takeCalls: QuickJSHandle,
    private readonly settleAll: QuickJSHandle,
    private readonly forget: QuickJSHandle,
    private readonly strings: GuestStrings,
    /** Where the context's `Text` methods run. */
    private readonly texts: TextSource,
  ) {}

  /**
   * Gives a prepared VM to a run: its limits, `Text` source, tools and context. Throws (and frees the VM) if the
   * context's skeleton does not fit.
   */
  static create(
    init: WorkerInit,
    texts: TextSource,
    send: (message: ReplMessage) => void,
    prepared: PreparedVM,
  ): QuickJSRepl {
    const { runtime, vm, binding } = prepared;
    try {
      runtime.setMemoryLimit(init.memoryLimitBytes);
      runtime.setMaxStackSize(init.stackLimitBytes);
      binding.texts = texts;
      binding.stepTimeoutMs = init.stepTimeoutMs;
      const toolNames = toHandle(vm, init.toolNames);
      const skeleton = prepared.strings.newString(texts.skeletonJSON);
      // What the calls of one slice may hold: their queue is copied twice on its way out of QuickJS, and the worker
      // keeps their long strings meanwhile; a quarter of the sandbox's memory bounds both.
      const maxCallChars = vm.newNumber(Math.floor(init.memoryLimitBytes / 4));
      const inWorker = init.texts.in === "worker" ? vm.true : vm.false;
      const setUp = vm.callFunction(prepared.setUp, vm.undefined, toolNames, skeleton, maxCallChars, inWorker);
      toolNames.dispose();
      skeleton.dispose();
      maxCallChars.dispose();
      prepared.setUp.dispose();
      vm.unwrapResult(setUp).dispose();
    } catch (error) {
      disposePreparedVM(prepared);
      throw error;
    }
    const { format, takeCalls, settleAll, forget, strings } = prepared;
    const repl = new QuickJSRepl(init, runtime, vm, send, format, takeCalls, settleAll, forget, strings, texts);
    binding.repl = repl;
    runtime.setInterruptHandler(() => repl.shouldInterrupt());
    // Last: what the guest API and the context's skeleton took is not the run's to pay for.
    repl.heapCap = HeapCap.install(vm, init.memoryLimitBytes);
    return repl;
  }

  /**
   * Starts a cell (`source`: the model's code after `replRewrite`). Its outcome is posted as a `cell-result`
   * message, now or when its host calls finish.
   */
  exec(cellId: number, source: string): void {
    if (this.cell !== undefined) throw new Error(`cell ${this.cell.id} is still running`);
    const cell: Cell = {
      id: cellId,
      output: new OutputBuffer(this.init.maxOutputChars),
      cpuMs: 0,
      calls: new Set(),
      interrupted: undefined,
    };
    this.cell = cell;
    this.heapCap?.beforeCell();
    let result: ReturnType<QuickJSContext["evalCode"]>;
    try {
      result = this.guarded(() => this.vm.evalCode(source, `cell-${cellId}.js`, JS_EVAL_FLAG_ASYNC));
    } catch (error) {
      if (!(error instanceof SandboxMemoryError)) throw error;
      // Not even the cell's source fits (what the REPL keeps fills the heap, and the reserve is gone): no cell can
      // free it, so the sandbox is restarted (the worker reports this as a crash).
      throw new RangeError(
        `out of memory: the REPL's variables fill sandbox.memoryLimitBytes = ${this.init.memoryLimitBytes} and no cell can start`,
      );
    }
    if ((result.error ?? result.value).value === 0) {
      // quickjs-emscripten's glue got no memory for the value it hands back (see heap-cap.ts)
      this.finish(outOfMemory(undefined, this.init.memoryLimitBytes));
      return;
    }
    if (result.error) {
      this.finish(this.takeError(result.error));
      return;
    }
    if (this.cell !== cell) {
      result.value.dispose(); // the cell already ended (its calls could not be handed over)
      return;
    }
    cell.promise = result.value;
    this.drain();
  }

  /** Delivers host calls' results to the guest promises waiting for them, then runs what they unblocked. */
  resolveCalls(results: CallResult[]): void {
    // One crossing for the lot (see the prelude's settleAll for the format).
    const entries: unknown[] = [];
    for (const result of results) {
      const pending = this.pending.get(result.callId);
      if (pending === undefined) continue;
      this.pending.delete(result.callId);
      this.cell?.calls.delete(result.callId);
      if (!result.ok) entries.push([result.callId, 0, result.error]);
      else if (result.value === undefined) entries.push([result.callId, 1]);
      else if (
        pending.kind === "llm_query_batched" &&
        Array.isArray(result.value) &&
        result.value.some(isSerializedErrorMarker)
      )
        entries.push([result.callId, 2, result.value]); // a batch with failed items
      else entries.push([result.callId, 1, result.value]);
    }
    if (entries.length > 0) {
      const settled = this.guarded(() => {
        // (No room for the answers: a SandboxMemoryError, which `recover` turns into the cell's error.)
        const json = this.strings.newString(JSON.stringify(entries));
        const outcome = this.vm.callFunction(this.settleAll, this.vm.undefined, json);
        json.dispose();
        if (outcome.error) return outcome.error;
        outcome.value.dispose();
        return undefined;
      });
      if (settled) {
        this.finish(this.takeError(settled));
        return;
      }
    }
    this.drain();
  }

  /**
   * Ends the running cell with an out-of-memory error if `error` is the sandbox having no memory left for what the
   * host hands to QuickJS (thrown before any of it reached QuickJS, so the REPL is intact); false for any other
   * error, which the worker treats as a crash.
   */
  recover(error: unknown): boolean {
    if (!(error instanceof SandboxMemoryError)) return false;
    this.finish(outOfMemory(error, this.init.memoryLimitBytes));
    return true;
  }

  /** Stops the running cell (if it is `cellId`): the next interrupt check ends it. */
  cancelCell(cellId: number): void {
    const cell = this.cell;
    if (cell === undefined || cell.id !== cellId) return;
    cell.interrupted = "cancel";
    this.finish({ name: "AbortError", message: "the cell was cancelled" });
  }

  /** Frees everything. In debug builds, returns a description of leaked handles, if any. */
  dispose(): string | undefined {
    if (this.disposed) return undefined;
    this.disposed = true;
    this.releaseCell();
    this.pending.clear();
    this.format.dispose();
    this.takeCalls.dispose();
    this.settleAll.dispose();
    this.forget.dispose();
    this.strings.dispose();
    try {
      this.vm.dispose();
      this.runtime.dispose();
    } catch (error) {
      return (error as Error).message;
    }
    return undefined;
  }

  /** Takes the calls guest code queued during the last slice and sends them to the host in one message. */
  private sendQueuedCalls(): void {
    this.callsQueued = false;
    const cell = this.cell;
    const taken = this.vm.callFunction(this.takeCalls, this.vm.undefined);
    let json = "";
    if (taken.error) taken.error.dispose();
    else {
      try {
        json = this.strings.getString(taken.value);
      } catch {
        // No memory left for the C copy: handled below as an empty queue.
      }
      taken.value.dispose();
    }
    const stashed = this.stashed;
    this.stashed = [];
    if (json === "") {
      // QuickJS ran out of memory making the queue's string or its C copy: the calls cannot be handed over.
      this.finish({
        name: "InternalError",
        message: `out of memory: the calls this cell made could not be handed over (sandbox.memoryLimitBytes = ${this.init.memoryLimitBytes})`,
      });
      return;
    }
    const queued = parseQueuedCalls(json);
    if (cell === undefined) {
      // The cell ended in the same slice: its calls are never made, and their promises are dropped.
      const ids = toHandle(
        this.vm,
        queued.map((call) => call[0]),
      );
      const forgotten = this.vm.callFunction(this.forget, this.vm.undefined, ids);
      ids.dispose();
      if (forgotten.error) forgotten.error.dispose();
      else forgotten.value.dispose();
      return;
    }
    const calls: OutgoingCall[] = [];
    for (const [callId, kind, name, args] of queued) {
      this.pending.set(callId, { cellId: cell.id, kind });
      cell.calls.add(callId);
      calls.push({ callId, cellId: cell.id, kind, name, args: this.resolveArgs(kind, args, stashed) });
    }
    this.send({ type: "calls", calls });
  }

  /** Keeps a long string argument for the calls of this slice (the guest caps what they hold); returns its place. */
  stash(text: string): number {
    return this.stashed.push(text) - 1;
  }

  /**
   * A call's arguments as they go to the host: stashed strings put back, and a reference to a text only this worker
   * holds (a piece of a context copied in, see `copyContextToWorker`) replaced by its string, which the host could not
   * resolve (a tool's arguments travel as JSON).
   */
  private resolveArgs(kind: SandboxCallKind, args: unknown[], stashed: string[]): unknown[] {
    if (!args.some((arg) => typeof arg === "object" && arg !== null)) return args;
    return args.map((arg) => {
      if (isStashRef(arg)) return stashed[arg.$rlmStash] ?? null;
      if (!isTextRef(arg)) return arg;
      const text = this.texts.ownText(arg.$rlmText);
      if (text === undefined) return arg;
      return kind === "tool" ? JSON.stringify(text) : text;
    });
  }

  /** What is left of the running cell's CPU budget. */
  cpuLeftMs(): number {
    const used = (this.cell?.cpuMs ?? 0) + (performance.now() - this.sliceStartMs);
    return Math.max(1, this.init.stepTimeoutMs - used);
  }

  private shouldInterrupt(): boolean {
    const cell = this.cell;
    if (cell === undefined) return false;
    if (cell.interrupted !== undefined) return true;
    if (cell.cpuMs + (performance.now() - this.sliceStartMs) > this.init.stepTimeoutMs) {
      cell.interrupted = "cpu";
      return true;
    }
    return false;
  }

  /** Runs guest code, counting its CPU time against the cell. */
  private guarded<T>(fn: () => T): T {
    this.sliceStartMs = performance.now();
    try {
      return fn();
    } finally {
      if (this.cell) this.cell.cpuMs += performance.now() - this.sliceStartMs;
      if (this.callsQueued) this.sendQueuedCalls();
      else this.stashed = []; // strings of a call that failed after all (none is queued)
    }
  }

  /** Runs pending jobs, then settles the cell if its promise is done or can never be. */
  private drain(): void {
    const cell = this.cell;
    if (cell?.promise === undefined) return;
    const jobs = this.guarded(() => this.runtime.executePendingJobs());
    if (this.cell !== cell) {
      // The cell ended while its calls were handed over (see sendQueuedCalls): its promise is gone.
      if (jobs.error) jobs.error.dispose();
      return;
    }
    if (jobs.error) {
      this.finish(this.takeError(jobs.error));
      return;
    }
    const state = this.vm.getPromiseState(cell.promise);
    if (state.type === "pending") {
      if (cell.calls.size === 0) {
        this.finish({
          name: "DeadlockError",
          message:
            "the cell awaits a promise that can never settle (nothing it waits for is in flight). " +
            "Only llm_query, llm_query_batched, rlm_query and tools resolve asynchronously here; there are no timers.",
        });
      }
      return;
    }
    if (state.type === "rejected") {
      this.finish(this.takeError(state.error));
      return;
    }
    // The async eval resolves to `{ value: <completion value of the script> }`.
    const wrapper = state.value;
    const completion = this.vm.getProp(wrapper, "value");
    wrapper.dispose();
    if (this.vm.typeof(completion) !== "undefined") {
      // (Model code's getters may run here and make calls, as in any slice.)
      const formatted = this.guarded(() => this.vm.callFunction(this.format, this.vm.undefined, completion));
      if (formatted.error) formatted.error.dispose();
      else {
        try {
          if (this.cell === cell) cell.output.writeLine(this.strings.getExactString(formatted.value));
        } catch (error) {
          this.finish(outOfMemory(error, this.init.memoryLimitBytes));
        }
        formatted.value.dispose();
      }
    }
    completion.dispose();
    this.finish(undefined);
  }

  private finish(error: SerializedError | undefined): void {
    const cell = this.cell;
    if (cell === undefined) return;
    if (error && cell.interrupted === "cpu") {
      error = {
        name: "TimeoutError",
        message: `the cell used more than stepTimeoutMs = ${this.init.stepTimeoutMs} ms of CPU time and was stopped (is there an endless loop?)`,
      };
    }
    if (error !== undefined && this.heapCap?.refusedDuringCell && isUnexplained(error))
      error = outOfMemory(undefined, this.init.memoryLimitBytes); // QuickJS had no memory left for its error either
    if (error?.name === "InternalError")
      error = { ...error, message: explainOutOfMemory(error.message, this.init.memoryLimitBytes) };
    if (error) cell.output.writeLine(`${error.name}: ${error.message}`);
    const rendered = cell.output.render();
    const outcome: CellOutcome = {
      output: rendered.text,
      outputChars: rendered.totalChars,
      truncated: rendered.truncated,
      cpuMs: Math.round(cell.cpuMs * 1000) / 1000,
      textAccess: this.texts.takeAccess(),
      ...(error ? { error } : {}),
      ...(cell.final ? { final: cell.final } : {}),
    };
    this.releaseCell();
    this.send({ type: "cell-result", cellId: cell.id, outcome, fatal: false });
    this.heapCap?.afterCell();
  }

  /** Forgets the current cell: its outstanding host calls are cancelled and their promises never resume. */
  private releaseCell(): void {
    const cell = this.cell;
    if (cell === undefined) return;
    this.cell = undefined;
    cell.promise?.dispose();
    if (cell.calls.size > 0) {
      const callIds = [...cell.calls];
      for (const id of callIds) this.pending.delete(id);
      try {
        const ids = toHandle(this.vm, callIds);
        const forgotten = this.vm.callFunction(this.forget, this.vm.undefined, ids);
        ids.dispose();
        if (forgotten.error) forgotten.error.dispose();
        else forgotten.value.dispose();
      } catch (error) {
        // No memory to tell the guest: its resolvers stay until the VM is freed (they can never be called).
        if (!(error instanceof SandboxMemoryError)) throw error;
      }
      this.send({ type: "cancel-calls", callIds });
    }
  }

  /** Turns a guest error handle into `{ name, message }` with the stack lines of the model's cells. */
  private takeError(handle: QuickJSHandle): SerializedError {
    try {
      // Dumping runs model code (toJSON, getters): a slice like any other, whose calls belong to this cell.
      const dumped = this.guarded(() => this.vm.dump(handle)) as unknown;
      if (dumped !== null && typeof dumped === "object") {
        const e = dumped as { name?: unknown; message?: unknown; stack?: unknown };
        const name = typeof e.name === "string" ? e.name : "Error";
        let message = typeof e.message === "string" ? e.message : safeJSON(dumped);
        const where = typeof e.stack === "string" ? cellFrames(e.stack) : "";
        if (where) message += `\n${where}`;
        return { name, message };
      }
      return { name: "Uncaught", message: typeof dumped === "string" ? dumped : safeJSON(dumped) };
    } finally {
      if (handle.alive) handle.dispose();
    }
  }
}

const CALL_KINDS: ReadonlySet<string> = new Set<SandboxCallKind>([
  "llm_query",
  "llm_query_batched",
  "rlm_query",
  "tool",
]);

/** The prelude's queue of host calls, checked: `[[id, kind, name, [args]], ...]`. */
function isStashRef(value: unknown): value is { $rlmStash: number } {
  return (
    typeof value === "object" && value !== null && typeof (value as { $rlmStash?: unknown }).$rlmStash === "number"
  );
}

function parseQueuedCalls(json: string): [number, SandboxCallKind, string, unknown[]][] {
  const queued: unknown = JSON.parse(json);
  const valid =
    Array.isArray(queued) &&
    queued.every(
      (call: unknown) =>
        Array.isArray(call) &&
        Number.isInteger(call[0]) &&
        CALL_KINDS.has(call[1]) &&
        typeof call[2] === "string" &&
        Array.isArray(call[3]),
    );
  if (!valid) throw new Error("the guest's queue of host calls is malformed");
  return queued as [number, SandboxCallKind, string, unknown[]][];
}

/** QuickJS's "out of memory" (first line of a message), with the limit it ran into and what to do. */
function explainOutOfMemory(message: string, limitBytes: number): string {
  const [first = "", ...rest] = message.split("\n");
  if (first !== "out of memory") return message;
  const mb = Math.round(limitBytes / (1024 * 1024));
  const explained = `out of memory: the sandbox may hold sandbox.memoryLimitBytes = ${limitBytes} (${mb} MB); free large variables (x = null) or work on slices`;
  return [explained, ...rest].join("\n");
}

/** An error that says nothing: what QuickJS throws when it has no memory left to make its error. */
function isUnexplained(error: SerializedError): boolean {
  if (error.name === "Uncaught") return error.message === "null" || error.message === "";
  return error.name === "InternalError" && (error.message === "" || error.message.startsWith("{"));
}

/** A string that could not be handed to QuickJS, as the cell's error. */
function outOfMemory(error: unknown, limitBytes: number): SerializedError {
  const detail = error instanceof Error ? ` (${error.message})` : "";
  return { name: "InternalError", message: `${explainOutOfMemory("out of memory", limitBytes)}${detail}` };
}

function cellFrames(stack: string): string {
  return stack
    .split("\n")
    .filter((line) => /cell-\d+\.js/.test(line))
    .map((line) => `    ${line.trim()}`)
    .join("\n");
}

function safeJSON(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Builds a guest value from a host value (JSON-like data only). */
function toHandle(vm: QuickJSContext, value: unknown): QuickJSHandle {
  switch (typeof value) {
    case "string":
      return vm.newString(value);
    case "number":
      return vm.newNumber(value);
    case "boolean":
      return value ? vm.true : vm.false;
    case "undefined":
      return vm.undefined;
    default:
      break;
  }
  if (value === null) return vm.null;
  if (isSerializedErrorMarker(value)) return vm.newError(value.$rlmError);
  if (Array.isArray(value)) {
    const array = vm.newArray();
    value.forEach((item, i) => {
      const h = toHandle(vm, item);
      vm.setProp(array, i, h);
      h.dispose();
    });
    return array;
  }
  if (typeof value === "object") {
    const object = vm.newObject();
    for (const [k, v] of Object.entries(value)) {
      const h = toHandle(vm, v);
      vm.setProp(object, k, h);
      h.dispose();
    }
    return object;
  }
  return vm.newString(String(value));
}
