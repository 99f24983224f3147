import { createContext, Script } from "node:vm";

/**
 * Runs `fn` synchronously and stops it after `timeLimitMs`, even inside a native regular-expression match, which no
 * QuickJS interrupt reaches. Node's `vm` timeout terminates the running JavaScript from a watchdog thread and the
 * thread carries on: this is what makes it safe to run model-chosen regexes over the context on the caller's thread.
 * Costs ~50 µs a call (a watchdog thread), so it guards regex operations only; other `Text` operations are linear.
 *
 * Throws `TimeLimitError` when the limit is hit, and whatever `fn` throws otherwise.
 */
export function runWithTimeLimit<T>(fn: () => T, timeLimitMs: number): T {
  runner.run = fn;
  try {
    return RUN.runInContext(runner, { timeout: Math.max(1, Math.ceil(timeLimitMs)) }) as T;
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === "ERR_SCRIPT_EXECUTION_TIMEOUT") throw new TimeLimitError();
    throw error;
  } finally {
    runner.run = undefined;
  }
}

/** The time limit of `runWithTimeLimit` was hit. */
export class TimeLimitError extends Error {
  constructor() {
    super("time limit reached");
    this.name = "TimeoutError";
  }
}

const RUN = new Script("run()", { filename: "rlm-time-limit.js" });
const runner = createContext({ run: undefined as (() => unknown) | undefined });
