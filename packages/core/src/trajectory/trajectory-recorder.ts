import type { RLMEvent } from "../events/rlm-event.js";
import {
  type CellTrace,
  type RunTrace,
  type SubcallTrace,
  TRAJECTORY_VERSION,
  type Trajectory,
} from "./trajectory-types.js";

/**
 * Folds a run's events into its {@link Trajectory}. Sub-calls are attached to the cell running when they started
 * (they start while a cell executes; the cell's own record is added when it ends).
 */
export class TrajectoryRecorder {
  private root: RunTrace | undefined;
  private readonly runs = new Map<string, RunTrace>();
  private readonly subcalls = new Map<string, SubcallTrace>();
  /** Sub-calls of the cell currently running in each run, waiting for its `code-executed` event. */
  private readonly openCells = new Map<string, SubcallTrace[]>();

  record(event: RLMEvent): void {
    switch (event.type) {
      case "run-start": {
        const run: RunTrace = {
          runId: event.runId,
          depth: event.depth,
          ...(event.parentRunId ? { parentRunId: event.parentRunId } : {}),
          ...(event.parentCallId ? { parentCallId: event.parentCallId } : {}),
          query: event.query,
          context: event.context,
          modelId: event.modelId,
          subModelId: event.subModelId,
          startedAt: event.timestamp,
          iterations: [],
        };
        this.runs.set(run.runId, run);
        const parentCall = event.parentCallId ? this.subcalls.get(event.parentCallId) : undefined;
        if (parentCall) parentCall.child = run;
        else this.root ??= run;
        return;
      }
      case "iteration-start":
        this.runs.get(event.runId)?.iterations.push({
          iteration: event.iteration,
          startedAt: event.timestamp,
          request: [],
          promptChars: 0,
          retries: [],
          cells: [],
        });
        return;
      case "model-request": {
        const iteration = this.lastIteration(event.runId);
        if (iteration) {
          iteration.request.push(...event.messages);
          iteration.promptChars = event.promptChars;
        }
        return;
      }
      case "model-response": {
        const iteration = this.lastIteration(event.runId);
        if (iteration) iteration.response = { text: event.text, usage: event.usage, durationMs: event.durationMs };
        return;
      }
      case "model-retry": {
        if (event.callId !== undefined) return;
        this.lastIteration(event.runId)?.retries.push({
          attempt: event.attempt,
          delayMs: event.delayMs,
          error: event.error,
        });
        return;
      }
      case "subcall-start": {
        const call: SubcallTrace = {
          callId: event.callId,
          kind: event.kind,
          target: event.target,
          prompt: event.prompt,
          ...(event.batch ? { batch: event.batch } : {}),
          startedAt: event.timestamp,
        };
        this.subcalls.set(call.callId, call);
        const open = this.openCells.get(event.runId) ?? [];
        open.push(call);
        this.openCells.set(event.runId, open);
        return;
      }
      case "subcall-end": {
        const call = this.subcalls.get(event.callId);
        if (!call) return;
        call.endedAt = event.timestamp;
        call.durationMs = event.durationMs;
        call.ok = event.ok;
        call.cached = event.cached;
        if (event.response !== undefined) call.response = event.response;
        if (event.error !== undefined) call.error = event.error;
        if (event.usage !== undefined) call.usage = event.usage;
        if (event.requestStartedAt !== undefined) call.requestStartedAt = event.requestStartedAt;
        if (event.requestEndedAt !== undefined) call.requestEndedAt = event.requestEndedAt;
        return;
      }
      case "code-executed": {
        const cell: CellTrace = {
          block: event.block,
          code: event.code,
          output: event.output,
          outputChars: event.outputChars,
          truncated: event.truncated,
          ...(event.error ? { error: event.error } : {}),
          final: event.final,
          sandboxReset: event.sandboxReset,
          startedAt: event.startedAt,
          durationMs: event.durationMs,
          cpuMs: event.cpuMs,
          subcalls: this.openCells.get(event.runId) ?? [],
        };
        this.openCells.delete(event.runId);
        this.lastIteration(event.runId)?.cells.push(cell);
        return;
      }
      case "final-answer": {
        const run = this.runs.get(event.runId);
        if (run) {
          run.answer = event.answer;
          run.finalSource = event.source;
        }
        return;
      }
      case "run-finish": {
        const run = this.runs.get(event.runId);
        if (run) {
          run.endedAt = event.timestamp;
          run.stopReason = event.stopReason;
          run.answer ??= event.answer;
        }
        return;
      }
      case "run-error": {
        const run = this.runs.get(event.runId);
        if (run) {
          run.endedAt = event.timestamp;
          run.error = event.error;
        }
        return;
      }
      case "budget-exceeded":
        return;
      default: {
        const unknown: never = event;
        throw new Error(`unknown event ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** The trajectory so far. Safe to call at any time; the result is a snapshot copy. */
  snapshot(): Trajectory {
    if (this.root === undefined) throw new Error("no run has started");
    return structuredClone({ format: "rlm-trajectory", version: TRAJECTORY_VERSION, root: this.root });
  }

  private lastIteration(runId: string) {
    const run = this.runs.get(runId);
    return run?.iterations[run.iterations.length - 1];
  }
}
