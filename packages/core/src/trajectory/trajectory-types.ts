import type { ContextDescription } from "../context/describe-context.js";
import type { StopReason } from "../engine/rlm-result.js";
import type { SubcallKind } from "../events/rlm-event.js";
import type { ChatMessage, TokenUsage } from "../model/language-model.js";

/** Version of the trajectory format. Bumped on any incompatible change; readers must check it. */
export const TRAJECTORY_VERSION = 1;

/**
 * A whole run as data: JSON-serialisable, versioned, the full recursion tree. Built from the run's events, so the
 * viewer, the CLI and every integration see the same thing.
 */
export interface Trajectory {
  format: "rlm-trajectory";
  version: typeof TRAJECTORY_VERSION;
  root: RunTrace;
}

export interface RunTrace {
  runId: string;
  depth: number;
  parentRunId?: string;
  parentCallId?: string;
  query: string;
  context: ContextDescription;
  modelId: string;
  subModelId: string;
  startedAt: number;
  endedAt?: number;
  iterations: IterationTrace[];
  answer?: string;
  finalSource?: "code" | "prose" | "forced";
  stopReason?: StopReason;
  error?: { name: string; code?: string; message: string };
}

export interface IterationTrace {
  iteration: number;
  startedAt: number;
  /** Messages added to the transcript for this turn (the first turn has the system prompt and the query). */
  request: ChatMessage[];
  promptChars: number;
  response?: { text: string; usage: TokenUsage; durationMs: number };
  retries: Array<{ attempt: number; delayMs: number; error: string }>;
  cells: CellTrace[];
}

export interface CellTrace {
  block: number;
  code: string;
  output: string;
  outputChars: number;
  truncated: boolean;
  error?: { name: string; message: string };
  final: boolean;
  sandboxReset: boolean;
  startedAt: number;
  durationMs: number;
  cpuMs: number;
  subcalls: SubcallTrace[];
}

export interface SubcallTrace {
  callId: string;
  kind: SubcallKind;
  target: string;
  prompt: string;
  batch?: { id: string; index: number; size: number };
  startedAt: number;
  endedAt?: number;
  durationMs?: number;
  /** When the model request itself went out and came back (after any wait for a concurrency permit). */
  requestStartedAt?: number;
  requestEndedAt?: number;
  ok?: boolean;
  response?: string;
  error?: string;
  usage?: TokenUsage;
  cached?: boolean;
  /** The child run, for `rlm_query` calls below `maxDepth`. */
  child?: RunTrace;
}
