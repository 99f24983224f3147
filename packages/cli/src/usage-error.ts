/** A mistake in the command line: shown with the usage text, never as a stack trace. Exit code 2. */
export class CLIUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CLIUsageError";
  }
}
