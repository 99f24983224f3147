import type { ContextDescription } from "../context/describe-context.js";
import type { RLMResult, StopReason } from "../engine/rlm-result.js";
import type { ChatMessage, TokenUsage } from "../model/language-model.js";

/** Fields every event carries. `runId` is the run (root or child) the event belongs to; the root has depth 0. */
export interface RLMEventBase {
  runId: string;
  depth: number;
  /** Epoch milliseconds. */
  timestamp: number;
}

export interface RunStartEvent extends RLMEventBase {
  type: "run-start";
  /** The run that spawned this one via `rlm_query`, and the sub-call that did it. */
  parentRunId?: string;
  parentCallId?: string;
  query: string;
  context: ContextDescription;
  modelId: string;
  subModelId: string;
}

export interface IterationStartEvent extends RLMEventBase {
  type: "iteration-start";
  iteration: number;
}

/** The root model of a run is asked for its next turn. `messages` are the ones added since its previous request. */
export interface ModelRequestEvent extends RLMEventBase {
  type: "model-request";
  iteration: number;
  messages: ChatMessage[];
  /** Size of the whole transcript sent, in characters (bounded, whatever the context size). */
  promptChars: number;
}

export interface ModelResponseEvent extends RLMEventBase {
  type: "model-response";
  iteration: number;
  text: string;
  usage: TokenUsage;
  durationMs: number;
}

export interface ModelRetryEvent extends RLMEventBase {
  type: "model-retry";
  /** `root` for a run's own turns; for sub-calls, the sub-call's id. */
  callId?: string;
  attempt: number;
  delayMs: number;
  error: string;
}

export interface CodeExecutedEvent extends RLMEventBase {
  type: "code-executed";
  iteration: number;
  /** Index of the code block within the reply. */
  block: number;
  code: string;
  output: string;
  outputChars: number;
  truncated: boolean;
  error?: { name: string; message: string };
  /** The cell called `FINAL`/`FINAL_VAR`. */
  final: boolean;
  /** The sandbox had to be restarted during this cell; earlier variables are gone. */
  sandboxReset: boolean;
  startedAt: number;
  durationMs: number;
  cpuMs: number;
}

export type SubcallKind = "llm" | "rlm" | "tool";

export interface SubcallStartEvent extends RLMEventBase {
  type: "subcall-start";
  callId: string;
  iteration: number;
  kind: SubcallKind;
  /** The tool's name for `tool` calls, the sub-model's id otherwise. */
  target: string;
  /**
   * What was sent: the prompt; for `rlm_query`, the child's query; for a tool, its arguments as JSON (strings longer
   * than 20,000 characters cut in the middle).
   */
  prompt: string;
  /** Part of a `llm_query_batched` call: its id and this prompt's index. */
  batch?: { id: string; index: number; size: number };
}

export interface SubcallEndEvent extends RLMEventBase {
  type: "subcall-end";
  callId: string;
  kind: SubcallKind;
  ok: boolean;
  response?: string;
  error?: string;
  usage?: TokenUsage;
  cached: boolean;
  durationMs: number;
  /**
   * For model sub-calls: when the request actually went out (after any wait for a concurrency permit) and came
   * back, in epoch ms. At most `concurrency` such windows overlap.
   */
  requestStartedAt?: number;
  requestEndedAt?: number;
}

export interface FinalAnswerEvent extends RLMEventBase {
  type: "final-answer";
  answer: string;
  /** Where the answer came from: `FINAL` in code, `FINAL(...)` in prose, or the forced last turn. */
  source: "code" | "prose" | "forced";
}

export interface BudgetExceededEvent extends RLMEventBase {
  type: "budget-exceeded";
  stopReason: StopReason;
  detail: string;
}

export interface RunFinishEvent extends RLMEventBase {
  type: "run-finish";
  answer: string;
  stopReason: StopReason;
  iterations: number;
  durationMs: number;
  /** Only on the root run's `run-finish`: the complete result, trajectory included. */
  result?: RLMResult;
}

export interface RunErrorEvent extends RLMEventBase {
  type: "run-error";
  error: { name: string; code?: string; message: string };
}

/** Everything a run reports while it works. Types are kebab-case; switch on `type`. */
export type RLMEvent =
  | RunStartEvent
  | IterationStartEvent
  | ModelRequestEvent
  | ModelResponseEvent
  | ModelRetryEvent
  | CodeExecutedEvent
  | SubcallStartEvent
  | SubcallEndEvent
  | FinalAnswerEvent
  | BudgetExceededEvent
  | RunFinishEvent
  | RunErrorEvent;

export type RLMEventType = RLMEvent["type"];
