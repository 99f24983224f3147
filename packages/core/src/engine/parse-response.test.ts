import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findProseFinal, parseResponse } from "./parse-response.js";

const fence = (lang: string, body: string) => `\`\`\`${lang}\n${body}\n\`\`\``;
/** Code lines that cannot themselves look like a fence. */
const codeBody = fc
  .array(
    fc.string().filter((l) => !l.includes("`") && !l.includes("~") && !l.includes("\n")),
    { maxLength: 6 },
  )
  .map((ls) => ls.join("\n"));
const proseLine = fc.string().filter((l) => !/[`~\n]/.test(l) && !l.includes("FINAL"));

describe("parseResponse", () => {
  it("accepts ```js, ```javascript and ```repl; runs none of the others", () => {
    const text = [
      fence("js", "a()"),
      fence("python", "b()"),
      fence("javascript", "c()"),
      fence("", "d()"),
      fence("repl", "e()"),
    ].join("\nprose\n");
    expect(parseResponse(text).blocks).toEqual(["a()", "c()", "e()"]);
  });

  it("property: every runnable block comes back verbatim and in order, whatever prose surrounds it", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(proseLine, fc.constantFrom("js", "javascript", "repl", "JS"), codeBody), { maxLength: 5 }),
        proseLine,
        (parts, tail) => {
          const text = `${parts.map(([p, lang, body]) => `${p}\n${fence(lang, body)}`).join("\n")}\n${tail}`;
          const parsed = parseResponse(text);
          expect(parsed.blocks).toEqual(parts.map(([, , body]) => body));
          expect(parsed.unclosedBlock).toBe(false);
        },
      ),
    );
  });

  it("property: an unclosed runnable block is reported and never run", () => {
    fc.assert(
      fc.property(proseLine, codeBody, (prose, body) => {
        const parsed = parseResponse(`${prose}\n\`\`\`js\n${body}`);
        expect(parsed.blocks).toEqual([]);
        expect(parsed.unclosedBlock).toBe(true);
      }),
    );
  });

  it("property: never throws, on any input", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const parsed = parseResponse(text);
        expect(Array.isArray(parsed.blocks)).toBe(true);
        findProseFinal(parsed.prose);
      }),
      { numRuns: 500 },
    );
  });
});

describe("findProseFinal", () => {
  it("reads FINAL(...) and FINAL_VAR(name) at the start of a line; the last one wins", () => {
    expect(findProseFinal("Thinking...\nFINAL(The answer is 42)")).toEqual({
      kind: "final",
      answer: "The answer is 42",
    });
    expect(findProseFinal('**FINAL("quoted (with parens)")**')).toEqual({
      kind: "final",
      answer: "quoted (with parens)",
    });
    expect(findProseFinal("FINAL_VAR(result)")).toEqual({ kind: "final-var", name: "result" });
    expect(findProseFinal("FINAL_VAR('result')")).toEqual({ kind: "final-var", name: "result" });
    expect(findProseFinal("FINAL(first)\nFINAL(second)")).toEqual({ kind: "final", answer: "second" });
    expect(findProseFinal("I will call FINAL(x) later")).toBeUndefined();
    expect(findProseFinal("FINAL(unbalanced")).toBeUndefined();
    expect(findProseFinal("FINAL(Bob's answer (see above))")).toEqual({
      kind: "final",
      answer: "Bob's answer (see above)",
    });
  });

  it("property: any answer without unbalanced parentheses or quotes round-trips", () => {
    const answer = fc
      .string({ minLength: 1 })
      .filter((s) => !/[()"`\\\n]/.test(s) && s.trim().length > 0 && !/^'.*'$/.test(s.trim()));
    fc.assert(
      fc.property(proseLine, answer, (before, a) => {
        expect(findProseFinal(`${before}\nFINAL(${a})`)).toEqual({ kind: "final", answer: a.trim() });
      }),
    );
  });

  it("property: a double-quoted answer is unquoted exactly, whatever it contains", () => {
    fc.assert(
      fc.property(fc.string(), (a) => {
        expect(findProseFinal(`FINAL(${JSON.stringify(a)})`)).toEqual({ kind: "final", answer: a });
      }),
    );
  });
});
