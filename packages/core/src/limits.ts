/** Defaults for every limit, in one place. Units are in the names. */

/** Root-model turns per run tree (shared by child runs). */
export const DEFAULT_MAX_ITERATIONS = 20;
/** How deep `rlm_query` may recurse; the root run is depth 0. At the limit `rlm_query` falls back to `llm_query`. */
export const DEFAULT_MAX_DEPTH = 1;
/** Model calls (root turns and sub-calls) per run tree. */
export const DEFAULT_MAX_LLM_CALLS = 1_000;
/** Input plus output tokens per run tree. */
export const DEFAULT_MAX_TOKENS = 20_000_000;
/** Wall-clock time of a whole run tree. */
export const DEFAULT_TIMEOUT_MS = 30 * 60_000;
/** Model requests in flight at once, across the whole run tree. */
export const DEFAULT_CONCURRENCY = 8;

/** Memory the QuickJS heap of one sandbox may use. Large context strings live outside it (see docs/decisions). */
export const DEFAULT_MEMORY_LIMIT_BYTES = 256 * 1024 * 1024;
/**
 * CPU time one code cell may spend running JavaScript, its `Text` methods included (they run on the host thread,
 * which is shared: a method that waited there for its turn has waited on this budget too). Time spent awaiting
 * sub-calls is not counted.
 */
export const DEFAULT_STEP_TIMEOUT_MS = 30_000;
/** Characters of a cell's output shown to the model; head and tail are kept. */
export const DEFAULT_MAX_OUTPUT_CHARS = 10_000;
/** QuickJS's own stack limit. The worker's native stack is far larger, so deep recursion fails cleanly. */
export const DEFAULT_STACK_LIMIT_BYTES = 1024 * 1024;
/** V8 heap limit of a pooled sandbox worker (shared by its sandboxes' large strings). Larger needs get their own worker. */
export const POOL_WORKER_HEAP_MB = 4096;
/** Native stack of the sandbox worker thread. */
export const SANDBOX_WORKER_STACK_MB = 64;
/** Strings in `context` at least this long stay in host memory and reach the sandbox as text objects. */
export const DEFAULT_HOST_STRING_MIN_CHARS = 100_000;
/** Extra time after `stepTimeoutMs` before a worker that no longer answers is terminated. */
export const SANDBOX_WATCHDOG_GRACE_MS = 2_000;

/** One model request may take this long before it is aborted and retried. */
export const DEFAULT_MODEL_TIMEOUT_MS = 120_000;
/** Retries of a retryable model error (so at most 1 + this many attempts). */
export const DEFAULT_MAX_RETRIES = 2;
/** First backoff delay; doubles each retry, with jitter. */
export const RETRY_BASE_DELAY_MS = 500;
/** Longest single backoff delay, `retry-after` included. */
export const RETRY_MAX_DELAY_MS = 30_000;

/** A root reply longer than this is kept head-and-tail in the transcript (its code still runs in full). */
export const MAX_TRANSCRIPT_REPLY_CHARS = 20_000;
/** A string argument of a tool longer than this is cut in the middle in the call's event (the tool gets it whole). */
export const MAX_EVENT_TOOL_ARG_CHARS = 20_000;
/** Characters of a sub-call prompt or answer kept in events' `preview` fields. */
export const PREVIEW_CHARS = 200;
/** The largest delay `setTimeout` accepts (Node fires a longer one after 1 ms); longer timeouts are not armed. */
export const MAX_TIMER_MS = 2_147_483_647;
/**
 * `Text.chunks(sizeChars, overlapChars)` gives chunks that start at least this far apart as `Text`s held by the host
 * (never copied until read); closer ones are plain strings, which cost less than a `Text` object does (in QuickJS,
 * and in pieces the host would keep).
 */
export const MIN_TEXT_CHUNK_CHARS = 1_000;
