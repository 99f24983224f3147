import { Worker } from "node:worker_threads";
import { RLMSandboxError } from "../errors/sandbox-error.js";
import { SANDBOX_WATCHDOG_GRACE_MS, SANDBOX_WORKER_STACK_MB } from "../limits.js";
import type {
  CellOutcome,
  HostMessage,
  SandboxCallKind,
  SerializedError,
  WorkerInit,
  WorkerMessage,
} from "./protocol.js";

/** A host call made by model code: `llm_query`, `llm_query_batched`, `rlm_query` or a user tool. */
export interface SandboxCall {
  kind: SandboxCallKind;
  /** The tool's name for `tool` calls; `"json"` for an `rlm_query` whose sub-context is JSON. */
  name: string;
  args: unknown[];
  cellId: number;
}

/** Answers a host call. Its `signal` fires when the cell that made the call ends or the sandbox is disposed. */
export type SandboxCallHandler = (call: SandboxCall, signal: AbortSignal) => Promise<unknown>;

export interface SandboxOptions extends Omit<WorkerInit, "debug"> {
  onCall: SandboxCallHandler;
  /** Heap for the worker's own V8 isolate, which holds the context's large strings. */
  workerHeapMb: number;
  /** Run QuickJS's debug build, which reports leaked handles when the sandbox is disposed. */
  debug?: boolean;
}

/** What a cell produced, as the engine sees it. */
export interface CellResult extends CellOutcome {
  cellId: number;
  durationMs: number;
  /** The sandbox died during this cell and was replaced: every variable from earlier cells is gone. */
  reset: boolean;
}

type CellWaiter = (outcome: CellOutcome, fatal: boolean) => void;

/**
 * A QuickJS REPL in its own worker thread, driven from the host. Owns the worker; restarts it when it crashes or
 * stops answering (the REPL state is lost then, and the cell says so). Dispose it when the run ends.
 */
export class Sandbox implements AsyncDisposable {
  private worker: Worker | undefined;
  private nextCellId = 1;
  private cellWaiter: { cellId: number; settle: CellWaiter } | undefined;
  private readonly calls = new Map<number, AbortController>();
  private disposed = false;
  private lastPongAt = 0;
  private pingId = 0;

  private constructor(private readonly options: SandboxOptions) {}

  /** Starts a worker, loads QuickJS and the context. Throws `RLMSandboxError` if that fails. */
  static async create(options: SandboxOptions): Promise<Sandbox> {
    const sandbox = new Sandbox(options);
    await sandbox.start();
    return sandbox;
  }

  /** Runs one cell to completion. Resolves with its outcome; rejects only when `signal` aborts or after dispose. */
  async execute(code: string, signal?: AbortSignal): Promise<CellResult> {
    if (this.disposed) throw new RLMSandboxError({ message: "the sandbox was disposed" });
    signal?.throwIfAborted();
    if (this.worker === undefined) await this.start();
    const worker = this.worker as Worker;
    const cellId = this.nextCellId++;
    const startedAt = performance.now();
    worker.ref();
    this.lastPongAt = startedAt;
    return new Promise<CellResult>((resolve, reject) => {
      const watchdog = setInterval(() => this.checkWatchdog(cellId), 250);
      const onAbort = () => {
        cleanup();
        this.post({ type: "cancel-cell", cellId });
        reject(signal?.reason);
      };
      const cleanup = () => {
        clearInterval(watchdog);
        signal?.removeEventListener("abort", onAbort);
        this.cellWaiter = undefined;
        this.worker?.unref();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.cellWaiter = {
        cellId,
        settle: (outcome, fatal) => {
          cleanup();
          if (fatal) this.kill();
          resolve({ ...outcome, cellId, durationMs: performance.now() - startedAt, reset: fatal });
        },
      };
      this.post({ type: "exec", cellId, code });
    });
  }

  /** Stops the worker. Safe to call twice. In debug mode, resolves with QuickJS's report of leaked handles. */
  async dispose(): Promise<{ leak?: string }> {
    if (this.disposed) return {};
    this.disposed = true;
    for (const controller of this.calls.values())
      controller.abort(new RLMSandboxError({ message: "sandbox disposed" }));
    this.calls.clear();
    const worker = this.worker;
    this.worker = undefined;
    if (worker === undefined) return {};
    const leak = await new Promise<string | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 1_000);
      worker.on("message", (message: WorkerMessage) => {
        if (message.type === "disposed") {
          clearTimeout(timer);
          resolve(message.leak);
        }
      });
      worker.postMessage({ type: "dispose" } satisfies HostMessage);
    });
    await worker.terminate();
    // The release build's assertions can fire too (QuickJS cannot free a runtime whose promise job was interrupted);
    // the worker is gone either way, so only the debug build's report is a finding.
    return leak === undefined || !this.options.debug ? {} : { leak };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private async start(): Promise<void> {
    const { onCall: _onCall, workerHeapMb, debug, ...init } = this.options;
    const worker = new Worker(workerURL(), {
      resourceLimits: { stackSizeMb: SANDBOX_WORKER_STACK_MB, maxOldGenerationSizeMb: workerHeapMb },
      stdout: false,
      stderr: false,
    });
    this.worker = worker;
    await new Promise<void>((resolve, reject) => {
      const fail = (error: unknown) =>
        reject(new RLMSandboxError({ message: `the sandbox could not start: ${describe(error)}`, cause: error }));
      worker.once("error", fail);
      worker.once("exit", (code) => fail(new Error(`worker exited with code ${code}`)));
      const onMessage = (message: WorkerMessage) => {
        if (message.type === "ready") {
          worker.off("message", onMessage);
          worker.removeAllListeners("error");
          worker.removeAllListeners("exit");
          resolve();
        } else if (message.type === "init-error") {
          fail(new Error(`${message.error.name}: ${message.error.message}`));
        }
      };
      worker.on("message", onMessage);
      worker.postMessage({ type: "init", init: { ...init, debug: debug ?? false } } satisfies HostMessage);
    }).catch(async (error: unknown) => {
      this.worker = undefined;
      await worker.terminate();
      throw error;
    });
    worker.on("message", (message: WorkerMessage) => this.onMessage(message));
    worker.on("error", (error) => this.onCrash(worker, error));
    worker.on("exit", (code) => this.onCrash(worker, new Error(`worker exited with code ${code}`)));
    worker.unref();
  }

  private onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case "call":
        this.startCall(message.callId, {
          kind: message.kind,
          name: message.name,
          args: message.args,
          cellId: message.cellId,
        });
        return;
      case "cancel-calls":
        for (const id of message.callIds) {
          this.calls.get(id)?.abort(new RLMSandboxError({ message: "the cell that made this call has ended" }));
          this.calls.delete(id);
        }
        return;
      case "cell-result":
        if (this.cellWaiter?.cellId === message.cellId) this.cellWaiter.settle(message.outcome, message.fatal);
        return;
      case "pong":
        this.lastPongAt = performance.now();
        return;
      case "ready":
      case "init-error":
      case "disposed":
        return;
      default: {
        const unknown: never = message;
        throw new Error(`unknown worker message ${JSON.stringify(unknown)}`);
      }
    }
  }

  private startCall(callId: number, call: SandboxCall): void {
    const controller = new AbortController();
    this.calls.set(callId, controller);
    Promise.resolve()
      .then(() => this.options.onCall(call, controller.signal))
      .then(
        (value) => {
          if (this.calls.delete(callId)) this.post({ type: "call-result", callId, ok: true, value });
        },
        (error: unknown) => {
          if (this.calls.delete(callId))
            this.post({ type: "call-result", callId, ok: false, error: serializeError(error) });
        },
      );
  }

  private checkWatchdog(cellId: number): void {
    const silentMs = performance.now() - this.lastPongAt;
    if (silentMs > this.options.stepTimeoutMs + SANDBOX_WATCHDOG_GRACE_MS) {
      const message = `the sandbox stopped responding for ${Math.round(silentMs)} ms (a native operation such as a regular expression ran past stepTimeoutMs = ${this.options.stepTimeoutMs} ms); it was restarted and all variables were lost`;
      this.failCell(cellId, { name: "TimeoutError", message });
      return;
    }
    this.post({ type: "ping", id: ++this.pingId });
  }

  private onCrash(worker: Worker, error: unknown): void {
    if (worker !== this.worker) return;
    this.worker = undefined;
    const waiter = this.cellWaiter;
    if (waiter) {
      this.failCell(waiter.cellId, {
        name: "SandboxCrash",
        message: `the sandbox crashed (${describe(error)}); it was restarted and all variables were lost`,
      });
    }
  }

  private failCell(cellId: number, error: SerializedError): void {
    const text = `${error.name}: ${error.message}\n`;
    this.cellWaiter?.cellId === cellId &&
      this.cellWaiter.settle({ output: text, outputChars: text.length, truncated: false, cpuMs: 0, error }, true);
  }

  /** Drops the current worker (its state is lost); the next `execute` starts a fresh one. */
  private kill(): void {
    const worker = this.worker;
    this.worker = undefined;
    for (const controller of this.calls.values())
      controller.abort(new RLMSandboxError({ message: "sandbox restarted" }));
    this.calls.clear();
    void worker?.terminate();
  }

  private post(message: HostMessage): void {
    this.worker?.postMessage(message);
  }
}

/** The compiled worker script. Tests that import the TypeScript sources use the built copy in `dist/`. */
function workerURL(): URL {
  const here = import.meta.url;
  if (here.endsWith(".ts"))
    return new URL(here.replace("/src/", "/dist/").replace(/sandbox\.ts$/, "sandbox-worker.js"));
  return new URL("./sandbox-worker.js", here);
}

function describe(error: unknown): string {
  if (error instanceof Error)
    return (error as { code?: string }).code ? `${(error as { code?: string }).code}: ${error.message}` : error.message;
  return String(error);
}

/** Turns anything thrown by a host call into what the guest sees. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}
