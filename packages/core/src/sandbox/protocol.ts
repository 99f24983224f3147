/** Messages between the host (`Sandbox`) and the sandbox worker. Internal. */
import type { MessagePort } from "node:worker_threads";

export type SandboxCallKind = "llm_query" | "llm_query_batched" | "rlm_query" | "tool";

export interface WorkerInit {
  /**
   * Where the context's large strings live. `host`: they stay with the caller and the worker reaches them over its
   * text channel; only the skeleton travels. `worker`: the whole context is copied in.
   */
  texts: { in: "host"; skeletonJSON: string } | { in: "worker"; context: unknown };
  memoryLimitBytes: number;
  stackLimitBytes: number;
  stepTimeoutMs: number;
  maxOutputChars: number;
  hostStringMinChars: number;
  hostStringKeys: string[];
  toolNames: string[];
  /** Use quickjs-emscripten's debug build, which reports leaked handles on dispose. */
  debug: boolean;
}

export interface SerializedError {
  name: string;
  message: string;
}

/** Turns anything thrown into what crosses threads and what the guest sees. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: String(error) };
}

/** What one code cell produced. */
export interface CellOutcome {
  /** Printed output and, last, the value of the final expression, truncated head-and-tail. */
  output: string;
  /** Length of the output before truncation. */
  outputChars: number;
  truncated: boolean;
  error?: SerializedError;
  final?: { answer: string; json?: string };
  /** CPU time spent running JavaScript in this cell. */
  cpuMs: number;
  /** Reads of host-backed texts during this cell: `[text id, characters returned, matches found, operations]`. */
  textAccess?: TextAccessDelta[];
}

export type TextAccessDelta = [id: number, chars: number, hits: number, operations: number];

/** Where a host-backed text sits in the context: object keys and array indices from the root. */
export type ContextPath = Array<string | number>;

/** A `Text` method called by guest code, sent over the worker's text channel while the worker waits for the reply. */
export interface TextOpRequest {
  sandboxId: number;
  id: number;
  op: string;
  args: unknown[];
  /** When the cell's CPU budget runs out (epoch ms): regex operations stop then. */
  deadline: number;
}

/** The states of a worker's text-channel flag (a fresh shared buffer reads `idle`). */
export const TEXT_SIGNAL = { idle: 0, waiting: 1, replied: 2, noReply: 3 } as const;

/**
 * A long string result as UTF-8 (`encodeForGuest`): its buffer is transferred to the worker, which copies it into
 * QuickJS once, instead of a string copied on its way there and encoded again.
 */
export interface Utf8Result {
  utf8: Uint8Array;
}

export type TextOpReply =
  | { ok: true; value: string | number | boolean | undefined; utf8?: never }
  | ({ ok: true; value?: never } & Utf8Result)
  | { ok: false; error: SerializedError };

/**
 * Given to each worker at start: a port for `Text` operations answered by the host, and a shared flag the host
 * raises (and notifies) after each reply, so the worker can wait for it synchronously.
 */
export interface SandboxWorkerData {
  textPort: MessagePort;
  textSignal: Int32Array;
  /** Until when the host's and this worker's event loops are awake (wall-clock ms; see `LoopWarmer`). */
  hostAwake: Float64Array;
  workerAwake: Float64Array;
}

/** The answer to one host call; answers that arrive together travel in one message. */
export type CallResult =
  | { callId: number; ok: true; value: unknown }
  | { callId: number; ok: false; error: SerializedError };

/** A host call made by guest code. The calls made in one slice of guest execution travel in one message. */
export interface OutgoingCall {
  callId: number;
  cellId: number;
  kind: SandboxCallKind;
  name: string;
  args: unknown[];
}

/** Host to worker. A worker hosts many sandboxes; every message but `ping` names one. */
export type HostMessage =
  | { type: "init"; sandboxId: number; init: WorkerInit }
  /** `source` is the model's code after `replRewrite`. */
  | { type: "exec"; sandboxId: number; cellId: number; source: string }
  | { type: "call-results"; sandboxId: number; results: CallResult[] }
  | { type: "cancel-cell"; sandboxId: number; cellId: number }
  | { type: "dispose"; sandboxId: number }
  | { type: "ping"; id: number };

/** Worker to host. */
export type WorkerMessage =
  | { type: "ready"; sandboxId: number }
  | { type: "init-error"; sandboxId: number; error: SerializedError }
  | { type: "calls"; sandboxId: number; calls: OutgoingCall[] }
  | { type: "cancel-calls"; sandboxId: number; callIds: number[] }
  | { type: "cell-result"; sandboxId: number; cellId: number; outcome: CellOutcome; fatal: boolean }
  | { type: "disposed"; sandboxId: number; leak?: string }
  | { type: "pong"; id: number };

/** What one sandbox's REPL sends; the worker adds the sandbox's id. */
export type ReplMessage = WorkerMessage extends infer M
  ? M extends { sandboxId: number }
    ? Omit<M, "sandboxId">
    : never
  : never;

/** How a failed item of a batch travels to the guest, which sees an `Error` in its place. */
export interface SerializedErrorMarker {
  $rlmError: SerializedError;
}

export function toSerializedErrorMarker(error: SerializedError): SerializedErrorMarker {
  return { $rlmError: error };
}

export function isSerializedErrorMarker(value: unknown): value is SerializedErrorMarker {
  return typeof value === "object" && value !== null && "$rlmError" in value;
}

/** A whole `Text` in a call's arguments: `{ $rlmText: id }`, resolved to its string by whoever holds it. */
export function isTextRef(value: unknown): value is { $rlmText: number } {
  return typeof value === "object" && value !== null && typeof (value as { $rlmText?: unknown }).$rlmText === "number";
}
