import { hasMarker, RLMError } from "./rlm-error.js";

/** The caller's `signal` aborted the run. `trajectory` holds everything that happened before. */
export class RLMAbortedError extends RLMError {
  constructor(options: { reason?: unknown } = {}) {
    super({
      code: "aborted",
      name: "RLMAbortedError",
      cause: options.reason,
      message: `The run was aborted${reasonText(options.reason)}`,
    });
  }

  static override isInstance(error: unknown): error is RLMAbortedError {
    return hasMarker(error, "aborted");
  }
}

function reasonText(reason: unknown): string {
  if (reason === undefined) return ".";
  if (reason instanceof Error) return `: ${reason.message}`;
  return `: ${String(reason)}`;
}
