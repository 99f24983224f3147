import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import type { TextOpResult, TextSource } from "./context-store.js";
import type { TextAccessDelta, TextOpReply, TextOpRequest } from "./protocol.js";

const SPIN_MS = 0.05;

/**
 * The worker's end of its text channel: sends a `Text` operation to the host and blocks until the answer is there.
 * Guest code calls `Text` methods synchronously, and the worker runs one QuickJS slice at a time, so there is never
 * more than one request in flight per worker.
 */
export class TextChannel {
  constructor(
    private readonly port: MessagePort,
    private readonly signal: Int32Array,
  ) {}

  request(request: TextOpRequest): TextOpReply {
    Atomics.store(this.signal, 0, 0);
    this.port.postMessage(request);
    // Most answers take a few microseconds: spin briefly before sleeping, as waking a thread costs ~25 µs.
    const spinUntil = performance.now() + SPIN_MS;
    while (Atomics.load(this.signal, 0) === 0 && performance.now() < spinUntil);
    for (;;) {
      Atomics.wait(this.signal, 0, 0);
      const received = receiveMessageOnPort(this.port);
      if (received !== undefined) return received.message as TextOpReply;
    }
  }
}

/** A sandbox's `Text` objects whose strings stay with the host (see docs/decisions/0002): every method is a request. */
export class RemoteTexts implements TextSource {
  constructor(
    readonly skeletonJSON: string,
    private readonly sandboxId: number,
    private readonly channel: TextChannel,
  ) {}

  op(id: number, op: string, args: unknown[], timeLimitMs: number): TextOpResult {
    const reply = this.channel.request({ sandboxId: this.sandboxId, id, op, args, timeLimitMs });
    if (reply.ok) return reply.value;
    const error = new Error(reply.error.message);
    error.name = reply.error.name;
    throw error;
  }

  /** The host counts reads itself. */
  takeAccess(): TextAccessDelta[] {
    return [];
  }
}
