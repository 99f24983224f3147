/** This thread's `performance.timeOrigin`: a constant, but each read of it is a call into Node's C++. */
const TIME_ORIGIN = performance.timeOrigin;

/**
 * The current time in epoch milliseconds, with sub-millisecond precision and monotonic within the process. Event
 * timestamps use it so that a timeline of thousands of short sub-calls orders them correctly.
 */
export function epochMs(): number {
  return TIME_ORIGIN + performance.now();
}
