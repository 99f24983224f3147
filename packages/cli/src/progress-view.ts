import type { RLMEvent } from "@rlm/core";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/**
 * Shows a run as it happens. On a terminal: a live status line (iteration, code running, sub-calls in flight and
 * done, tokens, elapsed) under a log of steps. Elsewhere: plain lines, one per step.
 */
export class ProgressView {
  private readonly started = performance.now();
  private iteration = 0;
  private inFlight = 0;
  private done = 0;
  private failed = 0;
  private tokens = 0;
  private phase = "starting";
  private frame = 0;
  private statusShown = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly enabled = true,
  ) {
    if (this.enabled && this.isTTY) {
      this.timer = setInterval(() => this.redraw(), 100);
      this.timer.unref();
    }
  }

  private get isTTY(): boolean {
    return this.out.isTTY === true;
  }

  private dim(s: string): string {
    return this.isTTY ? `\x1b[2m${s}\x1b[22m` : s;
  }

  private bold(s: string): string {
    return this.isTTY ? `\x1b[1m${s}\x1b[22m` : s;
  }

  /** Feeds one event of the run. */
  onEvent(event: RLMEvent): void {
    if (!this.enabled) return;
    const indent = "  ".repeat(event.depth);
    switch (event.type) {
      case "run-start":
        if (event.depth > 0) this.log(`${indent}↳ child run (depth ${event.depth}): ${truncate(event.query, 80)}`);
        return;
      case "iteration-start":
        if (event.depth === 0) this.iteration = event.iteration;
        this.phase = "thinking";
        this.log(
          `${indent}${this.bold(`iteration ${event.iteration}`)}${event.depth ? this.dim(` (depth ${event.depth})`) : ""}`,
        );
        return;
      case "model-response":
        this.tokens += event.usage.inputTokens + event.usage.outputTokens;
        this.phase = "running code";
        return;
      case "code-executed": {
        const code = event.code.split("\n").filter((l) => l.trim() && !l.trim().startsWith("//"));
        const shown = code.slice(0, 6).map((l) => `${indent}  ${this.dim("│")} ${truncate(l, 110)}`);
        if (code.length > 6) shown.push(`${indent}  ${this.dim(`│ ... ${code.length - 6} more lines`)}`);
        const output = event.output
          .trim()
          .split("\n")
          .slice(0, 4)
          .map((l) => `${indent}  ${this.dim("→")} ${truncate(l, 110)}`);
        this.log([...shown, ...output].join("\n"));
        this.phase = "thinking";
        return;
      }
      case "subcall-start":
        this.inFlight++;
        return;
      case "subcall-end":
        this.inFlight--;
        if (event.ok) this.done++;
        else this.failed++;
        if (event.usage) this.tokens += event.usage.inputTokens + event.usage.outputTokens;
        if (!this.isTTY && this.inFlight === 0)
          this.log(`${indent}  sub-calls done: ${this.done}${this.failed ? `, failed: ${this.failed}` : ""}`);
        return;
      case "model-retry":
        this.log(`${indent}  ${this.dim(`retrying in ${Math.round(event.delayMs)} ms: ${truncate(event.error, 80)}`)}`);
        return;
      case "budget-exceeded":
        this.log(`${indent}budget exhausted: ${event.detail}`);
        return;
      case "final-answer":
      case "model-request":
      case "run-finish":
      case "run-error":
        return;
      default: {
        const unknown: never = event;
        throw new Error(`unknown event ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Removes the status line and stops redrawing. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clearStatus();
  }

  private log(text: string): void {
    this.clearStatus();
    this.out.write(`${text}\n`);
    this.redraw();
  }

  private clearStatus(): void {
    if (this.statusShown) this.out.write("\r\x1b[2K");
    this.statusShown = false;
  }

  private redraw(): void {
    if (!this.isTTY || this.timer === undefined) return;
    const seconds = ((performance.now() - this.started) / 1000).toFixed(1);
    const spin = SPINNER[this.frame++ % SPINNER.length];
    const calls = `sub-calls ${this.inFlight} running, ${this.done} done${this.failed ? `, ${this.failed} failed` : ""}`;
    const line = `${spin} iteration ${this.iteration} · ${this.phase} · ${calls} · ${formatTokens(this.tokens)} tokens · ${seconds}s`;
    this.out.write(`\r\x1b[2K${this.dim(line)}`);
    this.statusShown = true;
  }
}

function truncate(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, " ");
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

function formatTokens(n: number): string {
  return n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n);
}
