/**
 * Entry point of a sandbox worker thread. A worker hosts many sandboxes (one QuickJS module each) and is their
 * fault domain: QuickJS runs here with its own large native stack, so deep recursion fails inside QuickJS, and a
 * crash or a hang costs only this thread (the host restarts its sandboxes). See docs/decisions/0001.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ContextStore } from "./context-store.js";
import { LoopWarmer } from "./loop-warmer.js";
import {
  type HostMessage,
  type ReplMessage,
  type SandboxWorkerData,
  serializeError,
  type WorkerInit,
  type WorkerMessage,
} from "./protocol.js";
import { type PreparedVM, prepareVM, QuickJSRepl } from "./quickjs-repl.js";
import { RemoteTexts, TextChannel } from "./remote-texts.js";

const port = parentPort;
if (port === null) throw new Error("sandbox-worker must run in a worker thread");
const { textPort, textSignal, hostAwake, workerAwake } = workerData as SandboxWorkerData;
/** How long the worker must have had nothing to do before it prepares the next sandbox's VM. */
const SPARE_AFTER_IDLE_MS = 15;
const textChannel = new TextChannel(textPort, textSignal, () => loop.busy());

/** The sandbox's texts: requests to the host, or a store of its own when the context was copied in. */
function textsFor(sandboxId: number, init: WorkerInit): RemoteTexts | ContextStore {
  if (init.texts.in === "host") return new RemoteTexts(init.texts.skeletonJSON, sandboxId, textChannel);
  return new ContextStore(init.texts.context, init.hostStringMinChars, init.hostStringKeys, init.memoryLimitBytes);
}

const repls = new Map<number, QuickJSRepl>();
/** After each message to the host, the next one (the next cell, call results) often follows within microseconds. */
const loop = new LoopWarmer(1, workerAwake);
const post = (message: WorkerMessage) => {
  port.postMessage(message);
  loop.sent(hostAwake);
};
const sender = (sandboxId: number) => (message: ReplMessage) => post({ ...message, sandboxId } as WorkerMessage);

/** A host-level exception out of QuickJS (the runtime may be corrupt): the sandbox is dropped, the cell fails. */
function fatal(sandboxId: number, cellId: number, error: unknown): void {
  // Not freed: its runtime may be corrupt, and freeing a corrupt runtime can abort. Once unreferenced, its WASM
  // module and memory are garbage-collected like any other object.
  repls.delete(sandboxId);
  const { name, message } = serializeError(error);
  const text = `SandboxCrash: ${name}: ${message}\n`;
  post({
    type: "cell-result",
    sandboxId,
    cellId,
    fatal: true,
    outcome: {
      output: text,
      outputChars: text.length,
      truncated: false,
      cpuMs: 0,
      error: { name: "SandboxCrash", message: `${name}: ${message}` },
    },
  });
}

/**
 * One VM made ahead of need once a sandbox has been disposed and the worker has been idle for a moment, so the next sandbox starts in about a
 * millisecond instead of several (and the GC a new WASM memory tends to start runs then, not during someone's cell).
 * Each VM is still used by one sandbox only. The debug build is always made fresh.
 */
let spare: Promise<PreparedVM> | undefined;
let lastActivityAt = performance.now();
let spareTimer: ReturnType<typeof setTimeout> | undefined;
function scheduleSpare(): void {
  if (spare !== undefined || spareTimer !== undefined) return;
  const wait = () => {
    const idleMs = performance.now() - lastActivityAt;
    if (idleMs < SPARE_AFTER_IDLE_MS) {
      spareTimer = setTimeout(wait, SPARE_AFTER_IDLE_MS - idleMs);
      return;
    }
    spareTimer = undefined;
    const made = prepareVM(false);
    spare = made;
    made.catch(() => {
      if (spare === made) spare = undefined;
    });
  };
  spareTimer = setTimeout(wait, SPARE_AFTER_IDLE_MS);
}
function takeVM(debug: boolean): Promise<PreparedVM> {
  if (debug || spare === undefined) return prepareVM(debug);
  const taken = spare;
  spare = undefined;
  return taken;
}

const currentCell = new Map<number, number>();
port.on("message", (message: HostMessage) => {
  loop.busy();
  lastActivityAt = performance.now();
  switch (message.type) {
    case "init": {
      const { sandboxId } = message;
      let texts: RemoteTexts | ContextStore;
      try {
        texts = textsFor(sandboxId, message.init);
      } catch (error) {
        post({ type: "init-error", sandboxId, error: serializeError(error) });
        return;
      }
      const { init } = message;
      takeVM(init.debug)
        .then((prepared) => {
          repls.set(sandboxId, QuickJSRepl.create(init, texts, sender(sandboxId), prepared));
          post({ type: "ready", sandboxId });
        })
        .catch((error: unknown) => post({ type: "init-error", sandboxId, error: serializeError(error) }));
      return;
    }
    case "exec": {
      currentCell.set(message.sandboxId, message.cellId);
      const repl = repls.get(message.sandboxId);
      if (repl === undefined) {
        fatal(message.sandboxId, message.cellId, new Error("this sandbox no longer exists in the worker"));
        return;
      }
      try {
        repl.exec(message.cellId, message.source);
      } catch (error) {
        if (!repl.recover(error)) fatal(message.sandboxId, message.cellId, error);
      }
      return;
    }
    case "call-results": {
      const repl = repls.get(message.sandboxId);
      try {
        repl?.resolveCalls(message.results);
      } catch (error) {
        if (!repl?.recover(error)) fatal(message.sandboxId, currentCell.get(message.sandboxId) ?? 0, error);
      }
      return;
    }
    case "cancel-cell":
      repls.get(message.sandboxId)?.cancelCell(message.cellId);
      return;
    case "dispose": {
      const repl = repls.get(message.sandboxId);
      repls.delete(message.sandboxId);
      currentCell.delete(message.sandboxId);
      const leak = repl?.dispose();
      scheduleSpare(); // a run ended: others are likely to follow (a process running one run never pays for a spare)
      post(
        leak === undefined
          ? { type: "disposed", sandboxId: message.sandboxId }
          : { type: "disposed", sandboxId: message.sandboxId, leak },
      );
      return;
    }
    case "ping":
      post({ type: "pong", id: message.id });
      return;
    default: {
      const unknown: never = message;
      throw new Error(`unknown message ${JSON.stringify(unknown)}`);
    }
  }
});
