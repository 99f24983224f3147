/**
 * Collects a cell's printed output within a fixed budget: the head and the tail are kept, the middle is dropped,
 * and the true length is counted. A cell that prints 100 MB costs `maxChars` of memory.
 */
export class OutputBuffer {
  private head = "";
  private tail = "";
  private totalChars = 0;
  private readonly headChars: number;
  private readonly tailChars: number;

  constructor(readonly maxChars: number) {
    this.headChars = Math.ceil(maxChars / 2);
    this.tailChars = maxChars - this.headChars;
  }

  /** Appends one printed line (a newline is added). */
  writeLine(line: string): void {
    this.write(`${line}\n`);
  }

  write(text: string): void {
    this.totalChars += text.length;
    if (this.head.length < this.headChars) {
      const room = this.headChars - this.head.length;
      this.head += text.slice(0, room);
      text = text.slice(room);
      if (text.length === 0) return;
    }
    if (this.tailChars === 0) return;
    this.tail = text.length >= this.tailChars ? text.slice(-this.tailChars) : (this.tail + text).slice(-this.tailChars);
  }

  /** The output as shown to the model, and whether something was dropped. */
  render(): { text: string; totalChars: number; truncated: boolean } {
    const kept = this.head.length + this.tail.length;
    if (kept >= this.totalChars) return { text: this.head + this.tail, totalChars: this.totalChars, truncated: false };
    const dropped = this.totalChars - kept;
    const note = `\n... [output truncated: ${dropped.toLocaleString("en-US")} of ${this.totalChars.toLocaleString("en-US")} characters omitted; print less, or slice what you print] ...\n`;
    return { text: this.head + note + this.tail, totalChars: this.totalChars, truncated: true };
  }
}

/** Keeps `text` within `maxChars`, head and tail, saying how much was cut. */
export function truncateMiddle(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const buffer = new OutputBuffer(maxChars);
  buffer.write(text);
  return buffer.render().text;
}
