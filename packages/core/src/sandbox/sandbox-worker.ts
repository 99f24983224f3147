/**
 * Entry point of a sandbox worker thread. A worker hosts many sandboxes (one QuickJS module each) and is their
 * fault domain: QuickJS runs here with its own large native stack, so deep recursion fails inside QuickJS, and a
 * crash or a hang costs only this thread (the host restarts its sandboxes). See docs/decisions/0001.
 */
import { parentPort } from "node:worker_threads";
import type { HostMessage, ReplMessage, SerializedError, WorkerMessage } from "./protocol.js";
import { QuickJSRepl } from "./quickjs-repl.js";

const port = parentPort;
if (port === null) throw new Error("sandbox-worker must run in a worker thread");

const repls = new Map<number, QuickJSRepl>();
const post = (message: WorkerMessage) => port.postMessage(message);
const sender = (sandboxId: number) => (message: ReplMessage) => post({ ...message, sandboxId } as WorkerMessage);

function serialize(error: unknown): SerializedError {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: "Error", message: String(error) };
}

/** A host-level exception out of QuickJS (the runtime may be corrupt): the sandbox is dropped, the cell fails. */
function fatal(sandboxId: number, cellId: number, error: unknown): void {
  repls.delete(sandboxId);
  const { name, message } = serialize(error);
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

const currentCell = new Map<number, number>();
port.on("message", (message: HostMessage) => {
  switch (message.type) {
    case "init": {
      const { sandboxId } = message;
      QuickJSRepl.create(message.init, sender(sandboxId)).then(
        (repl) => {
          repls.set(sandboxId, repl);
          post({ type: "ready", sandboxId, textPaths: repl.store.paths });
        },
        (error: unknown) => post({ type: "init-error", sandboxId, error: serialize(error) }),
      );
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
        repl.exec(message.cellId, message.code);
      } catch (error) {
        fatal(message.sandboxId, message.cellId, error);
      }
      return;
    }
    case "call-results":
      try {
        repls.get(message.sandboxId)?.resolveCalls(message.results);
      } catch (error) {
        fatal(message.sandboxId, currentCell.get(message.sandboxId) ?? 0, error);
      }
      return;
    case "cancel-cell":
      repls.get(message.sandboxId)?.cancelCell(message.cellId);
      return;
    case "dispose": {
      const repl = repls.get(message.sandboxId);
      repls.delete(message.sandboxId);
      currentCell.delete(message.sandboxId);
      const leak = repl?.dispose();
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
