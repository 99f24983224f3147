import { epochMs } from "../events/epoch-ms.js";

/**
 * How long a thread may have been asleep and still count as awake for the thread posting to it. Such a thread is
 * woken in tens of microseconds and answers soon; one that has slept longer has often given up its CPU (a halted
 * vCPU), and the kernel then wakes it on the CPU of the thread that posted, behind whatever that thread does next.
 */
const PEER_AWAKE_GRACE_MS = 0.3;

/**
 * Keeps this thread's event loop turning (a chain of `setImmediate`s) for a short window after a message goes to
 * another thread, so the answer is picked up without a wake-up. On small VMs a wake-up costs the sender ~25 µs inside
 * `postMessage` and the receiver as much again; with both loops warm a round trip between the host and a sandbox
 * worker drops from ~60 µs to ~6 µs. Nothing blocks: timers, I/O and other messages run as usual, and the window (a
 * fraction of a millisecond of CPU) ends by itself when no answer is coming soon.
 *
 * Each thread publishes until when it is awake (in shared memory), and a thread spins only for a peer that is awake
 * or has just gone to sleep. Spinning for a peer that has slept longer does harm: measured on a 2-vCPU VM, a worker
 * woken after 200 ms of sleep waited out the host's 0.5 ms spin (its wake-up took ~0.95 ms instead of ~0.45), and the
 * host the worker's 1 ms spin, on every round of a fan-out.
 */
export class LoopWarmer {
  private until = 0;
  private running = false;

  /**
   * @param windowMs how long to keep turning after a message is sent
   * @param awake this thread's "awake until" (wall-clock ms) in slot 0 of a shared array the other thread reads
   */
  constructor(
    private readonly windowMs: number,
    readonly awake: Float64Array,
  ) {}

  /** This thread has work (a message came): it is awake now. */
  busy(): void {
    this.publish(epochMs());
  }

  /**
   * A message went to the thread whose "awake until" is `peer`: keep turning for the window if it is awake, so its
   * answer is taken at once.
   */
  sent(peer: Float64Array): void {
    const now = epochMs();
    if (now - (peer[0] ?? 0) > PEER_AWAKE_GRACE_MS) {
      this.publish(now);
      return;
    }
    this.warm();
  }

  /** Keeps the loop turning for the window from now (whoever the peer is). */
  warm(): void {
    this.until = performance.now() + this.windowMs;
    this.publish(epochMs() + this.windowMs);
    if (!this.running) {
      this.running = true;
      setImmediate(this.tick);
    }
  }

  // Plain (not Atomics) 8-byte reads and writes: aligned, so they do not tear on 64-bit platforms, and a stale value
  // only costs a spin or a wake-up.
  private publish(awakeUntil: number): void {
    if (awakeUntil > (this.awake[0] ?? 0)) this.awake[0] = awakeUntil;
  }

  private readonly tick = (): void => {
    if (performance.now() < this.until) setImmediate(this.tick);
    else this.running = false;
  };
}

/** A shared "awake until" slot for a {@link LoopWarmer}. */
export function awakeSlot(): Float64Array {
  return new Float64Array(new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT));
}
