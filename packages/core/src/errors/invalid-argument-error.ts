import { hasMarker, RLMError } from "./rlm-error.js";

/** A setting or an input was wrong. `argument` names it (e.g. `sandbox.memoryLimitBytes`, `context[3].text`). */
export class RLMInvalidArgumentError extends RLMError {
  readonly argument: string;

  constructor(options: { argument: string; message: string }) {
    super({
      code: "invalid-argument",
      name: "RLMInvalidArgumentError",
      message: `Invalid argument \`${options.argument}\`: ${options.message}`,
    });
    this.argument = options.argument;
  }

  static override isInstance(error: unknown): error is RLMInvalidArgumentError {
    return hasMarker(error, "invalid-argument");
  }
}
