/**
 * Answers of sub-calls by (model, prompt). Holds the promise, so identical prompts in flight at the same time share
 * one request. Failed requests are forgotten, so they are tried again.
 */
export class SubcallCache {
  private readonly entries = new Map<string, Promise<CachedReply>>();

  /** The cached answer's promise, or undefined. */
  get(modelId: string, prompt: string): Promise<CachedReply> | undefined {
    return this.entries.get(key(modelId, prompt));
  }

  /** Remembers `reply` while it is pending and after it succeeds. */
  set(modelId: string, prompt: string, reply: Promise<CachedReply>): void {
    const k = key(modelId, prompt);
    this.entries.set(k, reply);
    reply.catch(() => {
      if (this.entries.get(k) === reply) this.entries.delete(k);
    });
  }

  get size(): number {
    return this.entries.size;
  }
}

export interface CachedReply {
  text: string;
}

function key(modelId: string, prompt: string): string {
  return `${modelId}\u0000${prompt}`;
}
