import { RLMInvalidArgumentError } from "../errors/invalid-argument-error.js";

/** How much of the context QuickJS must hold itself: strings shorter than the host-string threshold, and structure. */
export interface ContextFootprint {
  /** Characters of all strings. */
  totalChars: number;
  /** Estimated bytes materialised inside QuickJS (small strings as UTF-16 worst case, plus per-node overhead). */
  sandboxBytes: number;
}

const NODE_OVERHEAD_BYTES = 48;

/**
 * Checks that `context` is data the sandbox can hold: a string, a number, a boolean, null, or arrays and plain
 * objects of those, without cycles. Throws `RLMInvalidArgumentError` naming the offending path otherwise.
 */
export function validateContext(
  context: unknown,
  hostStringMinChars: number,
  hostStringKeys: string[] = [],
): ContextFootprint {
  const footprint: ContextFootprint = { totalChars: 0, sandboxBytes: 0 };
  const ancestors = new Set<object>();

  const visit = (value: unknown, path: string): void => {
    switch (typeof value) {
      case "string":
        footprint.totalChars += value.length;
        if (
          value.length < hostStringMinChars &&
          !hostStringKeys.some((k) => path.endsWith(`.${k}`) || path.endsWith(`[${JSON.stringify(k)}]`))
        ) {
          footprint.sandboxBytes += value.length * 2 + NODE_OVERHEAD_BYTES;
        }
        return;
      case "number":
        if (!Number.isFinite(value)) {
          throw new RLMInvalidArgumentError({
            argument: path,
            message: `${value} is not JSON data; numbers must be finite.`,
          });
        }
        footprint.sandboxBytes += NODE_OVERHEAD_BYTES;
        return;
      case "boolean":
        footprint.sandboxBytes += NODE_OVERHEAD_BYTES;
        return;
      case "undefined":
      case "function":
      case "symbol":
      case "bigint":
        throw new RLMInvalidArgumentError({
          argument: path,
          message: `got a ${typeof value}. The context must be JSON-like data: a string, an array, or a plain object (of strings, finite numbers, booleans, null, arrays and plain objects).`,
        });
      default:
        break;
    }
    if (value === null) {
      footprint.sandboxBytes += NODE_OVERHEAD_BYTES;
      return;
    }
    const object = value as object;
    if (ancestors.has(object)) {
      throw new RLMInvalidArgumentError({
        argument: path,
        message: "the context has a cycle (this value contains itself). The context must be a tree of plain data.",
      });
    }
    if (!Array.isArray(object)) {
      const proto = Object.getPrototypeOf(object);
      if (proto !== Object.prototype && proto !== null) {
        const kind = (object as { constructor?: { name?: string } }).constructor?.name ?? "object";
        throw new RLMInvalidArgumentError({
          argument: path,
          message: `got a ${kind}. Only plain objects and arrays are accepted; convert it first (e.g. to a string or with JSON.parse(JSON.stringify(value))).`,
        });
      }
    }
    ancestors.add(object);
    footprint.sandboxBytes += NODE_OVERHEAD_BYTES;
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length; i++) visit(object[i], `${path}[${i}]`);
    } else {
      for (const [key, child] of Object.entries(object)) {
        footprint.sandboxBytes += key.length * 2 + NODE_OVERHEAD_BYTES;
        visit(child, /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`);
      }
    }
    ancestors.delete(object);
  };

  visit(context, "context");
  return footprint;
}
