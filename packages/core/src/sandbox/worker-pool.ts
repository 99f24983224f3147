import { availableParallelism } from "node:os";
import { MessageChannel, type MessagePort, Worker } from "node:worker_threads";
import { RLMSandboxError } from "../errors/sandbox-error.js";
import { POOL_WORKER_HEAP_MB, SANDBOX_WORKER_STACK_MB } from "../limits.js";
import { encodeForGuest } from "./guest-strings.js";
import { awakeSlot, LoopWarmer } from "./loop-warmer.js";
import {
  type HostMessage,
  type SandboxWorkerData,
  serializeError,
  TEXT_SIGNAL,
  type TextOpReply,
  type TextOpRequest,
  type WorkerMessage,
} from "./protocol.js";

/**
 * From this many characters a string answer to a `Text` method goes to the worker as UTF-8 in a transferred buffer.
 * A string posted to another thread is copied twice (out of this heap, into the worker's), and the worker then encodes
 * it for QuickJS: for the 45 MB context, ~36 ms of copies (and more when the worker's heap must make room) and ~25 ms
 * of encoding there, against ~32 ms here (the checks and the encoding). Below ~70,000 characters the two ways cost
 * the same.
 */
const UTF8_REPLY_MIN_CHARS = 64 * 1024;

/** A sandbox as the pool sees it: where its messages go, and what to do when its worker dies. */
export interface PoolClient {
  onMessage(message: WorkerMessage): void;
  onCrash(error: unknown): void;
  /** Answers a `Text` operation of this sandbox's guest code (the worker waits for it). */
  onTextOp(request: TextOpRequest): TextOpReply;
}

/** One worker thread and the sandboxes it hosts. */
export class PooledWorker {
  readonly clients = new Map<number, PoolClient>();
  /** Sandboxes being freed: their messages still arrive, but they are not load. */
  readonly retiring = new Set<number>();
  lastPongAt = performance.now();
  private busy = 0;
  dead = false;
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly textPort: MessagePort;
  private readonly textSignal = new Int32Array(new SharedArrayBuffer(4));
  private readonly workerAwake = awakeSlot();

  constructor(
    readonly heapMb: number,
    private readonly onExit: (worker: PooledWorker) => void,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.textPort = port1;
    const workerData: SandboxWorkerData = {
      textPort: port2,
      textSignal: this.textSignal,
      hostAwake: hostLoop.awake,
      workerAwake: this.workerAwake,
    };
    this.worker = new Worker(workerURL(), {
      resourceLimits: { stackSizeMb: SANDBOX_WORKER_STACK_MB, maxOldGenerationSizeMb: heapMb },
      // Not the host's flags (e.g. --input-type, loaders): the worker runs one known script.
      execArgv: [],
      stdout: false,
      stderr: false,
      workerData,
      transferList: [port2],
    });
    this.worker.unref();
    this.textPort.on("message", (request: TextOpRequest) => this.answerTextOp(request));
    this.textPort.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.once("online", resolve);
      this.worker.once("error", reject);
    });
    this.ready.catch(() => undefined);
    this.worker.on("message", (message: WorkerMessage) => {
      hostLoop.busy();
      if (message.type === "pong") {
        this.lastPongAt = performance.now();
        return;
      }
      this.clients.get(message.sandboxId)?.onMessage(message);
    });
    this.worker.on("error", (error) => this.die(error));
    this.worker.on("exit", (code) => this.die(new Error(`worker exited with code ${code}`)));
  }

  /**
   * Every request gets an answer, whatever happens: the worker is blocked until the flag moves. The worker is alive
   * while it waits for us, so its silence meanwhile is not a hang.
   */
  private answerTextOp(request: TextOpRequest): void {
    this.lastPongAt = performance.now();
    let reply: TextOpReply;
    try {
      const client = this.clients.get(request.sandboxId);
      reply = client
        ? client.onTextOp(request)
        : { ok: false, error: { name: "Error", message: "this sandbox no longer exists" } };
    } catch (error) {
      reply = { ok: false, error: serializeError(error) };
    }
    let state: number = TEXT_SIGNAL.replied;
    try {
      const [message, transfer] = textReplyMessage(reply);
      this.textPort.postMessage(message, transfer);
    } catch (error) {
      try {
        this.textPort.postMessage({ ok: false, error: serializeError(error) } satisfies TextOpReply);
      } catch {
        state = TEXT_SIGNAL.noReply;
      }
    }
    this.lastPongAt = performance.now();
    Atomics.store(this.textSignal, 0, state);
    Atomics.notify(this.textSignal, 0);
    // A loop over `Text` methods sends the next request soon.
    hostLoop.sent(this.workerAwake);
  }

  /**
   * How long the worker has not answered a ping. A worker blocked on one of its Text requests (waiting for this
   * thread, perhaps behind another worker's long regex) is alive: its silence is ours.
   */
  silentMs(): number {
    if (Atomics.load(this.textSignal, 0) === TEXT_SIGNAL.waiting) this.lastPongAt = performance.now();
    return performance.now() - this.lastPongAt;
  }

  post(message: HostMessage): void {
    if (this.dead) return;
    this.worker.postMessage(message);
    hostLoop.sent(this.workerAwake);
  }

  /** Keeps the process alive while a sandbox starts or a cell runs here; the worker alone never holds it open. */
  hold(): void {
    if (this.busy++ === 0) {
      this.lastPongAt = performance.now();
      this.worker.ref();
    }
  }

  release(): void {
    if (--this.busy === 0) this.worker.unref();
  }

  /** Ends the worker at once; every sandbox on it is told it crashed. */
  terminate(reason: unknown): void {
    void this.worker.terminate();
    this.die(reason);
  }

  private die(error: unknown): void {
    if (this.dead) return;
    this.dead = true;
    this.textPort.close();
    this.onExit(this);
    const clients = [...this.clients.values()];
    this.clients.clear();
    this.retiring.clear();
    for (const client of clients) client.onCrash(error);
  }
}

/**
 * The process-wide pool of sandbox workers. Sandboxes are placed on the least-loaded worker, so a run tree of
 * dozens of child runs shares a few warm workers instead of starting a thread each; a sandbox whose context needs
 * a larger heap than pool workers have gets a worker of its own.
 */
export class SandboxWorkerPool {
  private readonly workers: PooledWorker[] = [];
  private nextSandboxId = 1;

  constructor(readonly size: number) {}

  /** Places a sandbox; returns its worker (wait for `ready`) and its id there. */
  attach(client: PoolClient, heapMb: number): { worker: PooledWorker; sandboxId: number } {
    const sandboxId = this.nextSandboxId++;
    let worker: PooledWorker;
    if (heapMb > POOL_WORKER_HEAP_MB) {
      worker = new PooledWorker(heapMb, () => undefined);
    } else {
      const load = (w: PooledWorker) => w.clients.size - w.retiring.size;
      const live = this.workers.filter((w) => !w.dead);
      const leastLoaded = live.sort((a, b) => load(a) - load(b))[0];
      if (leastLoaded === undefined || (load(leastLoaded) > 0 && live.length < this.size)) {
        worker = new PooledWorker(POOL_WORKER_HEAP_MB, (w) => this.forget(w));
        this.workers.push(worker);
      } else {
        worker = leastLoaded;
      }
    }
    worker.clients.set(sandboxId, client);
    return { worker, sandboxId };
  }

  /** Marks a sandbox as being freed: new sandboxes may go to its worker as if it were gone. */
  retire(worker: PooledWorker, sandboxId: number): void {
    if (worker.clients.has(sandboxId)) worker.retiring.add(sandboxId);
  }

  /** Removes a sandbox from its worker. A dedicated (large-heap) worker ends with its last sandbox. */
  detach(worker: PooledWorker, sandboxId: number): void {
    worker.clients.delete(sandboxId);
    worker.retiring.delete(sandboxId);
    if (worker.heapMb > POOL_WORKER_HEAP_MB && worker.clients.size === 0)
      worker.terminate(new RLMSandboxError({ message: "worker no longer needed" }));
  }

  /** Ends every worker now: their sandboxes fail the cell they are running and restart on their next one. */
  terminateAll(reason: unknown): void {
    for (const worker of [...this.workers]) worker.terminate(reason);
  }

  /** Starts a worker ahead of need, so the first run does not wait for one. */
  prewarm(): void {
    if (this.workers.length === 0) this.workers.push(new PooledWorker(POOL_WORKER_HEAP_MB, (w) => this.forget(w)));
  }

  private forget(worker: PooledWorker): void {
    const i = this.workers.indexOf(worker);
    if (i !== -1) this.workers.splice(i, 1);
  }
}

/** How a reply to a `Text` method is posted: a long string answer as UTF-8, in a buffer that is transferred. */
export function textReplyMessage(reply: TextOpReply): [message: TextOpReply, transfer: ArrayBuffer[]] {
  if (!reply.ok || typeof reply.value !== "string" || reply.value.length < UTF8_REPLY_MIN_CHARS) return [reply, []];
  let utf8: Uint8Array<ArrayBuffer> | undefined;
  try {
    utf8 = encodeForGuest(reply.value);
  } catch {
    return [reply, []]; // no memory for the bytes here: the string goes as it is
  }
  return utf8 === undefined ? [reply, []] : [{ ok: true, utf8 }, [utf8.buffer]];
}

/** Keeps the host's event loop turning briefly after each message to a worker, for a fast answer (see LoopWarmer). */
const hostLoop = new LoopWarmer(0.5, awakeSlot());

/** The compiled worker script. Tests that import the TypeScript sources use the built copy in `dist/`. */
function workerURL(): URL {
  const here = import.meta.url;
  if (here.endsWith(".ts"))
    return new URL(here.replace("/src/", "/dist/").replace(/worker-pool\.ts$/, "sandbox-worker.js"));
  return new URL("./sandbox-worker.js", here);
}

/** The pool every sandbox uses: one worker per core, at least 2, at most 8. */
export const sandboxWorkerPool = new SandboxWorkerPool(Math.max(2, Math.min(8, availableParallelism())));
