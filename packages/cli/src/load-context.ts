import { readdir, readFile, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import type { JSONValue } from "@rlm/core";
import { CLIUsageError } from "./usage-error.js";

/** A file of a directory or glob context. */
export interface LoadedDocument {
  path: string;
  text: string;
}

const SKIPPED_DIRS = new Set(["node_modules", ".git", "dist", ".turbo"]);

/**
 * Reads `--context`: `-` is standard input (text), a `.json` file is parsed, another file is its text, a directory
 * becomes an array of `{ path, text }` for its text files (recursively, sorted by path), and a glob (`*`, `**`, `?`)
 * the same for the files it matches.
 */
export async function loadContext(spec: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<JSONValue> {
  if (spec === "-") return readStream(stdin);
  const info = await stat(spec).catch(() => undefined);
  if (info?.isFile()) {
    const text = await readFile(spec, "utf8");
    if (spec.endsWith(".json")) {
      try {
        return JSON.parse(text) as JSONValue;
      } catch (error) {
        throw new CLIUsageError(`--context ${spec}: not valid JSON (${(error as Error).message}).`);
      }
    }
    return text;
  }
  if (info?.isDirectory()) return readDocuments(spec, await walk(spec), spec);
  if (/[*?[]/.test(spec)) {
    const { root, matcher } = compileGlob(spec);
    const files = (await walk(root).catch(() => [])).filter(
      (f) => matcher.test(relative(process.cwd(), f).split(sep).join("/")) || matcher.test(f.split(sep).join("/")),
    );
    if (files.length === 0) throw new CLIUsageError(`--context ${spec}: no files match.`);
    return readDocuments(spec, files, process.cwd());
  }
  throw new CLIUsageError(`--context ${spec}: no such file or directory.`);
}

async function readDocuments(spec: string, files: string[], root: string): Promise<JSONValue> {
  const documents: LoadedDocument[] = [];
  for (const file of files.sort()) {
    const buffer = await readFile(file);
    if (buffer.subarray(0, 8192).includes(0)) continue;
    documents.push({ path: relative(root, file).split(sep).join("/"), text: buffer.toString("utf8") });
  }
  if (documents.length === 0) throw new CLIUsageError(`--context ${spec}: no text files found.`);
  return documents as unknown as JSONValue;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || SKIPPED_DIRS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** A glob as a regex over '/'-separated paths, and the directory to walk (its part before the first wildcard). */
export function compileGlob(glob: string): { root: string; matcher: RegExp } {
  const parts = glob.split("/");
  const firstWild = parts.findIndex((p) => /[*?[]/.test(p));
  const root = resolve(parts.slice(0, firstWild).join("/") || ".");
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === "*" && glob[i + 1] === "*") {
      re += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += glob[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return { root, matcher: new RegExp(`(^|/)${re.replace(/^\.\//, "")}$`) };
}

function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolveText, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer | string) => chunks.push(typeof c === "string" ? Buffer.from(c) : c));
    stream.on("end", () => resolveText(Buffer.concat(chunks).toString("utf8")));
    stream.on("error", reject);
  });
}
