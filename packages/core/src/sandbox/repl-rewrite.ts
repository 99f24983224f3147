import { parse } from "acorn";

/**
 * Rewrites one REPL cell so that its top-level declarations behave as in Node's REPL: `const`/`let` become `var`
 * and `class K {}` becomes `var K = class K {}`. Declarations then persist between cells as global properties
 * (so `FINAL_VAR` and `SHOW_VARS` see them), can be declared again in a later cell, and a cell that throws before
 * a declaration does not poison the name. Positions stay on the same lines, so error line numbers still match the
 * model's code.
 *
 * Throws a `SyntaxError` (with line and column) when the code does not parse.
 */
export function replRewrite(code: string): string {
  const program = parse(code, {
    ecmaVersion: "latest",
    sourceType: "script",
    allowAwaitOutsideFunction: true,
    allowReturnOutsideFunction: false,
    allowHashBang: true,
  });
  const edits: Array<{ start: number; end: number; text: string }> = [];
  for (const node of program.body) {
    if (node.type === "VariableDeclaration" && node.kind !== "var") {
      edits.push({ start: node.start, end: node.start + node.kind.length, text: "var" });
    } else if (node.type === "ClassDeclaration" && node.id) {
      edits.push({ start: node.start, end: node.start, text: `var ${node.id.name} = ` });
      edits.push({ start: node.end, end: node.end, text: ";" });
    }
  }
  let out = code;
  for (let i = edits.length - 1; i >= 0; i--) {
    const edit = edits[i] as (typeof edits)[number];
    out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  }
  return out;
}
