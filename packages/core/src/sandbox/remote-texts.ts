import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import { epochMs } from "../events/epoch-ms.js";
import type { TextOpResult, TextSource } from "./context-store.js";
import {
  TEXT_SIGNAL,
  type TextAccessDelta,
  type TextOpReply,
  type TextOpRequest,
  type Utf8Result,
} from "./protocol.js";

const SPIN_MS = 0.05;

/**
 * The worker's end of its text channel: sends a `Text` operation to the host and blocks until the answer is there.
 * Guest code calls `Text` methods synchronously, and the worker runs one QuickJS slice at a time, so there is never
 * more than one request in flight per worker.
 */
export class TextChannel {
  /** @param onRequest called before each request (the worker says it is awake, so the host's reply is prompt) */
  constructor(
    private readonly port: MessagePort,
    private readonly signal: Int32Array,
    private readonly onRequest: () => void,
  ) {}

  request(request: TextOpRequest): TextOpReply {
    this.onRequest();
    Atomics.store(this.signal, 0, TEXT_SIGNAL.waiting);
    this.port.postMessage(request);
    // Most answers take a few microseconds: spin briefly before sleeping, as waking a thread costs ~25 µs.
    const spinUntil = performance.now() + SPIN_MS;
    while (Atomics.load(this.signal, 0) === TEXT_SIGNAL.waiting && performance.now() < spinUntil);
    while (Atomics.load(this.signal, 0) === TEXT_SIGNAL.waiting) Atomics.wait(this.signal, 0, TEXT_SIGNAL.waiting);
    // The host posts its reply before it raises the flag, so a reply is there unless it said it could not send one.
    const received = Atomics.load(this.signal, 0) === TEXT_SIGNAL.replied ? receiveMessageOnPort(this.port) : undefined;
    Atomics.store(this.signal, 0, TEXT_SIGNAL.idle);
    if (received === undefined) throw new Error("the host could not answer this Text method");
    return received.message as TextOpReply;
  }
}

/** A sandbox's `Text` objects whose strings stay with the host (see docs/decisions/0002): every method is a request. */
export class RemoteTexts implements TextSource {
  constructor(
    readonly skeletonJSON: string,
    private readonly sandboxId: number,
    private readonly channel: TextChannel,
  ) {}

  op(id: number, op: string, args: unknown[], timeLimitMs: number): TextOpResult | Utf8Result {
    // An absolute deadline, so time spent waiting for the host (busy with other sandboxes) is not granted twice.
    const deadline = epochMs() + timeLimitMs;
    const reply = this.channel.request({ sandboxId: this.sandboxId, id, op, args, deadline });
    if (reply.ok) return reply.utf8 === undefined ? reply.value : reply;
    const error = new Error(reply.error.message);
    error.name = reply.error.name;
    throw error;
  }

  /** The host counts reads itself. */
  takeAccess(): TextAccessDelta[] {
    return [];
  }

  /** Every text lives with the host, which resolves references itself. */
  ownText(): undefined {
    return undefined;
  }
}
