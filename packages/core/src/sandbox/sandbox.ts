import { setMaxListeners } from "node:events";
import { RLMSandboxError } from "../errors/sandbox-error.js";
import { epochMs } from "../events/epoch-ms.js";
import { SANDBOX_WATCHDOG_GRACE_MS } from "../limits.js";
import { ContextStore } from "./context-store.js";
import { OutputBuffer } from "./output-buffer.js";
import {
  type CallResult,
  type CellOutcome,
  type ContextPath,
  isTextRef,
  type SandboxCallKind,
  serializeError,
  type TextAccessDelta,
  type TextOpReply,
  type TextOpRequest,
  type WorkerInit,
  type WorkerMessage,
} from "./protocol.js";
import { replRewrite } from "./repl-rewrite.js";
import { type PooledWorker, type SandboxWorkerPool, sandboxWorkerPool } from "./worker-pool.js";

/** A host call made by model code: `llm_query`, `llm_query_batched`, `rlm_query` or a user tool. */
export interface SandboxCall {
  kind: SandboxCallKind;
  /** The tool's name for `tool` calls; `"json"` for an `rlm_query` whose sub-context is JSON. */
  name: string;
  /** Prompts and sub-contexts (whole `Text`s as their strings); for a tool, its arguments as values. */
  args: unknown[];
  cellId: number;
}

/** Answers a host call. Its `signal` fires when the cell that made the call ends or the sandbox is disposed. */
export type SandboxCallHandler = (call: SandboxCall, signal: AbortSignal) => Promise<unknown>;

export interface SandboxOptions extends Omit<WorkerInit, "debug" | "texts"> {
  /** The run's context (validated plain data). */
  context: unknown;
  /**
   * Copy the context into the worker, so `Text` methods run there rather than on this thread. Costs a copy of the
   * context; see docs/decisions/0002.
   */
  copyContextToWorker: boolean;
  onCall: SandboxCallHandler;
  /** Heap the worker's own V8 isolate needs for this sandbox (a context copied into the worker lives there). */
  workerHeapMb: number;
  /** Run QuickJS's debug build, which reports leaked handles when the sandbox is disposed. */
  debug?: boolean;
  /** The worker pool to run in; the process-wide one by default. */
  pool?: SandboxWorkerPool;
  /** Aborts every host call in flight when it fires (the run's signal), so each call's signal is the only one to watch. */
  signal?: AbortSignal;
}

/** How much of one host-backed text of the context a run read. */
export interface ContextAccess {
  /** Where the text sits in the context: keys and indices from the root (`[]` for a string context). */
  path: ContextPath;
  /** Characters the code got back from it (slices, matches, whole reads). */
  charsRead: number;
  /** Matches found in it (search hits, `includes` that were true, regex matches). */
  hits: number;
  /** Operations run on it. */
  operations: number;
}

/** What a cell produced, as the engine sees it. */
export interface CellResult extends CellOutcome {
  cellId: number;
  durationMs: number;
  /** The sandbox died during this cell and was replaced: every variable from earlier cells is gone. */
  reset: boolean;
}

type CellWaiter = { cellId: number; settle: (outcome: CellOutcome, reset: boolean) => void };

/**
 * A QuickJS REPL living in a pooled worker thread, driven from the host. If its worker crashes or stops answering,
 * or QuickJS itself fails, the cell says so and the next cell gets a fresh REPL (the state is lost). Dispose it
 * when the run ends.
 */
export class Sandbox implements AsyncDisposable {
  private placement: { worker: PooledWorker; sandboxId: number } | undefined;
  private nextCellId = 1;
  private cellWaiter: CellWaiter | undefined;
  /** Host calls in flight: call id -> the cell that made it. */
  private readonly calls = new Map<number, number>();
  /** One controller per cell with calls in flight: a cell's calls all end when it does. */
  private readonly cellCalls = new Map<number, AbortController>();
  private disposed = false;
  private pingId = 0;
  private pendingInit: { resolve: () => void; reject: (error: unknown) => void } | undefined;
  private pendingDispose: ((leak: string | undefined) => void) | undefined;
  /**
   * The context's large strings, by reference (made once, kept across worker restarts). `Text` methods run on them
   * here unless the context was copied into the worker; either way, whole texts passed to sub-calls come from here.
   */
  private store: ContextStore | undefined;
  private readonly access = new Map<number, ContextAccess>();
  private outbox: CallResult[] = [];

  private readonly onRunAbort = () => this.abortCalls("the run was aborted");

  private constructor(private readonly options: SandboxOptions) {
    options.signal?.addEventListener("abort", this.onRunAbort, { once: true });
  }

  /** Places a sandbox on a worker and loads QuickJS and the context. Throws `RLMSandboxError` if that fails. */
  static async create(options: SandboxOptions): Promise<Sandbox> {
    const sandbox = new Sandbox(options);
    await sandbox.start();
    return sandbox;
  }

  /** Runs one cell to completion. Resolves with its outcome; rejects only when `signal` aborts or after dispose. */
  async execute(code: string, signal?: AbortSignal): Promise<CellResult> {
    if (this.disposed) throw new RLMSandboxError({ message: "the sandbox was disposed" });
    signal?.throwIfAborted();
    if (this.placement === undefined) await this.start();
    const { worker, sandboxId } = this.placement as NonNullable<Sandbox["placement"]>;
    const cellId = this.nextCellId++;
    const startedAt = performance.now();
    // Parsed here rather than in the worker: this thread's parser is warm, and a syntax error needs no round trip.
    let source: string;
    try {
      source = replRewrite(code);
    } catch (error) {
      const outcome = syntaxErrorOutcome(error, this.options.maxOutputChars);
      return { ...outcome, cellId, durationMs: performance.now() - startedAt, reset: false };
    }
    worker.hold();
    return new Promise<CellResult>((resolve, reject) => {
      const watchdog = setInterval(() => this.checkWatchdog(worker, cellId), 250);
      const cleanup = () => {
        clearInterval(watchdog);
        signal?.removeEventListener("abort", onAbort);
        this.cellWaiter = undefined;
        worker.release();
      };
      const onAbort = () => {
        cleanup();
        worker.post({ type: "cancel-cell", sandboxId, cellId });
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.cellWaiter = {
        cellId,
        settle: (outcome, reset) => {
          cleanup();
          resolve({ ...outcome, cellId, durationMs: performance.now() - startedAt, reset });
        },
      };
      worker.post({ type: "exec", sandboxId, cellId, source });
    });
  }

  /** Frees the sandbox. Safe to call twice. In debug mode, resolves with QuickJS's report of leaked handles. */
  async dispose(): Promise<{ leak?: string }> {
    if (this.disposed) return {};
    this.disposed = true;
    this.options.signal?.removeEventListener("abort", this.onRunAbort);
    this.abortCalls("sandbox disposed");
    const placement = this.placement;
    this.placement = undefined;
    if (placement === undefined) return {};
    const pool = this.options.pool ?? sandboxWorkerPool;
    pool.retire(placement.worker, placement.sandboxId); // no longer counts as load while it is being freed
    const leak = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 1_000);
      timer.unref(); // runs do not wait for their sandbox's disposal; it must not hold the process open either
      this.pendingDispose = (report) => {
        clearTimeout(timer);
        resolve(report);
      };
      placement.worker.post({ type: "dispose", sandboxId: placement.sandboxId });
    });
    this.pendingDispose = undefined;
    pool.detach(placement.worker, placement.sandboxId);
    // The release build's assertions can fire too (QuickJS cannot free a runtime whose promise job was interrupted);
    // that memory goes with the sandbox's WASM module, so only the debug build's report is a finding.
    return leak === undefined || !this.options.debug ? {} : { leak };
  }

  /** Reads of the context's host-backed texts so far, by text. */
  contextAccess(): ContextAccess[] {
    if (this.store) this.recordAccess(this.store.takeAccess());
    return [...this.access.values()].map((a) => ({ ...a, path: [...a.path] }));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private async start(): Promise<void> {
    const {
      onCall: _onCall,
      workerHeapMb,
      debug,
      pool = sandboxWorkerPool,
      signal: _signal,
      context,
      copyContextToWorker,
      ...init
    } = this.options;
    this.store ??= new ContextStore(context, init.hostStringMinChars, init.hostStringKeys, init.memoryLimitBytes);
    const texts: WorkerInit["texts"] = copyContextToWorker
      ? { in: "worker", context }
      : { in: "host", skeletonJSON: this.store.skeletonJSON };
    const placement = pool.attach(
      {
        onMessage: (message) => this.onMessage(message),
        onCrash: (error) => this.onCrash(error),
        onTextOp: (request) => this.onTextOp(request),
      },
      workerHeapMb,
    );
    this.placement = placement;
    placement.worker.hold();
    try {
      await placement.worker.ready;
      await new Promise<void>((resolve, reject) => {
        this.pendingInit = { resolve, reject };
        placement.worker.post({
          type: "init",
          sandboxId: placement.sandboxId,
          init: { ...init, texts, debug: debug ?? false },
        });
      });
    } catch (error) {
      this.placement = undefined;
      pool.detach(placement.worker, placement.sandboxId);
      throw new RLMSandboxError({ message: `the sandbox could not start: ${describe(error)}`, cause: error });
    } finally {
      this.pendingInit = undefined;
      placement.worker.release();
    }
  }

  private onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case "ready":
        this.pendingInit?.resolve();
        return;
      case "init-error":
        this.pendingInit?.reject(new Error(`${message.error.name}: ${message.error.message}`));
        return;
      case "calls":
        for (const call of message.calls) {
          this.startCall(call.callId, { kind: call.kind, name: call.name, args: call.args, cellId: call.cellId });
        }
        return;
      case "cancel-calls": {
        const cells = new Set<number>();
        for (const id of message.callIds) {
          const cellId = this.calls.get(id);
          if (cellId !== undefined) cells.add(cellId);
          this.calls.delete(id);
        }
        for (const cellId of cells) this.endCellCalls(cellId);
        return;
      }
      case "cell-result":
        this.endCellCalls(message.cellId);
        this.recordAccess(message.outcome.textAccess ?? []);
        if (this.store) this.recordAccess(this.store.takeAccess());
        if (message.fatal) this.forgetPlacement();
        if (this.cellWaiter?.cellId === message.cellId) this.cellWaiter.settle(message.outcome, message.fatal);
        return;
      case "disposed":
        this.pendingDispose?.(message.leak);
        return;
      case "pong":
        return;
      default: {
        const unknown: never = message;
        throw new Error(`unknown worker message ${JSON.stringify(unknown)}`);
      }
    }
  }

  /**
   * The call's arguments as its handler gets them. Whole `Text` objects passed to a sub-call or tool arrive as
   * `{ $rlmText: id }` and become the string held here (not a copy); a tool's other arguments arrive as JSON and are
   * parsed.
   */
  private resolveArgs(kind: SandboxCallKind, args: unknown[]): unknown[] {
    const store = this.store;
    if (kind === "tool")
      return args.map((arg) => {
        if (isTextRef(arg)) return store?.text(arg.$rlmText) ?? null;
        return typeof arg === "string" ? (JSON.parse(arg) as unknown) : null;
      });
    if (store === undefined || !args.some(isTextRef)) return args;
    return args.map((arg) => (isTextRef(arg) ? store.text(arg.$rlmText) : arg));
  }

  private onTextOp(request: TextOpRequest): TextOpReply {
    if (this.store === undefined || this.options.copyContextToWorker)
      throw new Error("this sandbox's texts live in its worker");
    try {
      const timeLimitMs = request.deadline - epochMs();
      return { ok: true, value: this.store.op(request.id, request.op, request.args, Math.max(1, timeLimitMs)) };
    } catch (error) {
      return { ok: false, error: serializeError(error) };
    }
  }

  private recordAccess(deltas: TextAccessDelta[]): void {
    for (const [id, chars, hits, operations] of deltas) {
      const path = this.store?.paths[id];
      if (path === undefined) continue;
      const entry = this.access.get(id) ?? { path, charsRead: 0, hits: 0, operations: 0 };
      entry.charsRead += chars;
      entry.hits += hits;
      entry.operations += operations;
      this.access.set(id, entry);
    }
  }

  private startCall(callId: number, call: SandboxCall): void {
    let controller = this.cellCalls.get(call.cellId);
    if (controller === undefined) {
      controller = new AbortController();
      setMaxListeners(0, controller.signal); // one listener per request in flight; hundreds are expected
      this.cellCalls.set(call.cellId, controller);
    }
    this.calls.set(callId, call.cellId);
    let answer: Promise<unknown>;
    try {
      const args = this.resolveArgs(call.kind, call.args);
      answer = this.options.onCall(args === call.args ? call : { ...call, args }, controller.signal);
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (value) => {
        if (this.calls.delete(callId)) this.deliver({ callId, ok: true, value });
      },
      (error: unknown) => {
        if (this.calls.delete(callId)) this.deliver({ callId, ok: false, error: serializeError(error) });
      },
    );
  }

  /** The cell ended: whatever it asked for and still waits on is cancelled. */
  private endCellCalls(cellId: number): void {
    const controller = this.cellCalls.get(cellId);
    if (controller === undefined) return;
    this.cellCalls.delete(cellId);
    for (const [id, owner] of this.calls) if (owner === cellId) this.calls.delete(id);
    controller.abort(new RLMSandboxError({ message: "the cell that made this call has ended" }));
  }

  /**
   * Queues a call's answer. Answers that arrive in the same turn of the event loop (a fan-out's sub-calls often
   * finish together) go to the worker in one message, and its REPL runs their continuations in one pass.
   */
  private deliver(result: CallResult): void {
    this.outbox.push(result);
    if (this.outbox.length === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const results = this.outbox;
    this.outbox = [];
    const placement = this.placement;
    if (placement && results.length > 0)
      placement.worker.post({ type: "call-results", sandboxId: placement.sandboxId, results });
  }

  private checkWatchdog(worker: PooledWorker, cellId: number): void {
    const silentMs = worker.silentMs();
    if (silentMs > this.options.stepTimeoutMs + SANDBOX_WATCHDOG_GRACE_MS) {
      const waiter = this.cellWaiter;
      worker.terminate(
        new RLMSandboxError({
          message: `the sandbox stopped responding for ${Math.round(silentMs)} ms (native work ran past stepTimeoutMs = ${this.options.stepTimeoutMs} ms)`,
        }),
      );
      if (waiter?.cellId === cellId) return;
    }
    worker.post({ type: "ping", id: ++this.pingId });
  }

  /** The worker died (crash, watchdog, or a sibling sandbox's hang): fail the running cell; restart on next use. */
  private onCrash(error: unknown): void {
    this.forgetPlacement();
    this.pendingInit?.reject(error);
    const waiter = this.cellWaiter;
    if (waiter) {
      const message = `${describe(error)}; the sandbox was restarted and all variables were lost`;
      const name = /stopped responding/.test(message) ? "TimeoutError" : "SandboxCrash";
      const text = `${name}: ${message}\n`;
      waiter.settle(
        { output: text, outputChars: text.length, truncated: false, cpuMs: 0, error: { name, message } },
        true,
      );
    }
  }

  private forgetPlacement(): void {
    const placement = this.placement;
    this.placement = undefined;
    this.abortCalls("sandbox restarted");
    if (placement) (this.options.pool ?? sandboxWorkerPool).detach(placement.worker, placement.sandboxId);
  }

  private abortCalls(reason: string): void {
    this.calls.clear();
    if (this.cellCalls.size === 0) return;
    const runSignal = this.options.signal;
    const why = runSignal?.aborted ? runSignal.reason : new RLMSandboxError({ message: reason });
    for (const controller of this.cellCalls.values()) controller.abort(why);
    this.cellCalls.clear();
  }
}

/**
 * A cell that does not parse, as the worker reports a failed cell. Acorn throws a `SyntaxError` with a position
 * (also for code nested too deeply for its stack).
 */
function syntaxErrorOutcome(error: unknown, maxOutputChars: number): CellOutcome {
  const { name, message } = serializeError(error);
  const output = new OutputBuffer(maxOutputChars);
  output.writeLine(`${name}: ${message}`);
  const { text, totalChars, truncated } = output.render();
  return { output: text, outputChars: totalChars, truncated, cpuMs: 0, error: { name, message } };
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    return code ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
