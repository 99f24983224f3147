/**
 * The current time in epoch milliseconds, with sub-millisecond precision and monotonic within the process. Event
 * timestamps use it so that a timeline of thousands of short sub-calls orders them correctly.
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
