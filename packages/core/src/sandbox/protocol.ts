/** Messages between the host (`Sandbox`) and the sandbox worker. Internal. */

export type SandboxCallKind = "llm_query" | "llm_query_batched" | "rlm_query" | "tool";

export interface WorkerInit {
  context: unknown;
  memoryLimitBytes: number;
  stackLimitBytes: number;
  stepTimeoutMs: number;
  maxOutputChars: number;
  hostStringMinChars: number;
  toolNames: string[];
  /** Use quickjs-emscripten's debug build, which reports leaked handles on dispose. */
  debug: boolean;
}

export interface SerializedError {
  name: string;
  message: string;
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
}

export type HostMessage =
  | { type: "init"; init: WorkerInit }
  | { type: "exec"; cellId: number; code: string }
  | { type: "call-result"; callId: number; ok: true; value: unknown }
  | { type: "call-result"; callId: number; ok: false; error: SerializedError }
  | { type: "cancel-cell"; cellId: number }
  | { type: "ping"; id: number }
  | { type: "dispose" };

export type WorkerMessage =
  | { type: "ready" }
  | { type: "init-error"; error: SerializedError }
  | { type: "call"; callId: number; cellId: number; kind: SandboxCallKind; name: string; args: unknown[] }
  | { type: "cancel-calls"; callIds: number[] }
  | { type: "cell-result"; cellId: number; outcome: CellOutcome; fatal: boolean }
  | { type: "pong"; id: number }
  | { type: "disposed"; leak?: string };

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
