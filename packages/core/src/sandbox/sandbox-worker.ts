/**
 * Entry point of the sandbox worker thread. The worker is the fault domain of one sandbox: QuickJS runs here with
 * its own native stack, so deep recursion fails inside QuickJS and a crash or a hang costs only this thread.
 */
import { parentPort } from "node:worker_threads";
import type { HostMessage, WorkerMessage } from "./protocol.js";
import { QuickJSRepl } from "./quickjs-repl.js";

const port = parentPort;
if (port === null) throw new Error("sandbox-worker must run in a worker thread");

let repl: QuickJSRepl | undefined;
const send = (message: WorkerMessage) => port.postMessage(message);

function fatal(cellId: number, error: unknown): void {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  send({
    type: "cell-result",
    cellId,
    fatal: true,
    outcome: {
      output: `SandboxCrash: ${message}\n`,
      outputChars: message.length + 15,
      truncated: false,
      cpuMs: 0,
      error: { name: "SandboxCrash", message },
    },
  });
}

let currentCellId = 0;
port.on("message", (message: HostMessage) => {
  switch (message.type) {
    case "init":
      QuickJSRepl.create(message.init, send).then(
        (created) => {
          repl = created;
          send({ type: "ready" });
        },
        (error: unknown) => {
          const e = error instanceof Error ? error : new Error(String(error));
          send({ type: "init-error", error: { name: e.name, message: e.message } });
        },
      );
      return;
    case "exec":
      currentCellId = message.cellId;
      try {
        repl?.exec(message.cellId, message.code);
      } catch (error) {
        fatal(message.cellId, error);
      }
      return;
    case "call-result":
      try {
        if (message.ok) repl?.resolveCall(message.callId, true, message.value);
        else repl?.resolveCall(message.callId, false, undefined, message.error);
      } catch (error) {
        fatal(currentCellId, error);
      }
      return;
    case "cancel-cell":
      repl?.cancelCell(message.cellId);
      return;
    case "ping":
      send({ type: "pong", id: message.id });
      return;
    case "dispose": {
      const leak = repl?.dispose();
      send(leak === undefined ? { type: "disposed" } : { type: "disposed", leak });
      return;
    }
    default: {
      const unknown: never = message;
      throw new Error(`unknown message ${JSON.stringify(unknown)}`);
    }
  }
});
