/**
 * JavaScript evaluated once inside every QuickJS sandbox, before any model code.
 *
 * It is a function expression called with a `host` object of native functions. Everything the model can use is
 * defined here as a non-writable, non-configurable global, and every intrinsic the API needs is captured up front,
 * so model code that reassigns `llm_query`, deletes `FINAL` or pollutes `Array.prototype` cannot break the API for
 * later cells. The `host` object itself is only reachable from this closure.
 *
 * It returns `{ format, setUp, ... }` for the worker: `format` renders a value for the REPL output, `setUp` defines the
 * run's tools and its `context` (the JSON skeleton revived, large strings as host-backed `Text` objects).
 */
export const GUEST_PRELUDE = String.raw`(function (host) {
  "use strict";
  const G = globalThis;
  const O = Object;
  const defineProperty = O.defineProperty;
  const freeze = O.freeze;
  const getOwnPropertyNames = O.getOwnPropertyNames;
  const keysOf = O.keys;
  const create = O.create;
  const JSONparse = JSON.parse;
  const JSONstringify = JSON.stringify;
  const isArray = Array.isArray;
  const StringC = String;
  const RegExpC = RegExp;
  const TypeErrorC = TypeError;
  const RangeErrorC = RangeError;
  const ErrorC = Error;
  const ReferenceErrorC = ReferenceError;
  const ProxyC = Proxy;
  const ReflectGet = Reflect.get;
  const uncurry = (fn) => Function.prototype.call.bind(fn);
  // Appends as an own data property: Array.prototype.push would run a setter model code put on Array.prototype[i].
  const push = (array, value) =>
    defineProperty(array, array.length, { value: value, writable: true, enumerable: true, configurable: true });
  const join = uncurry(Array.prototype.join);
  const pop = uncurry(Array.prototype.pop);
  const arrayIterator = uncurry(Array.prototype[Symbol.iterator]);
  const strSlice = uncurry(StringC.prototype.slice);
  const strSplit = uncurry(StringC.prototype.split);
  const strIsWellFormed = uncurry(StringC.prototype.isWellFormed);
  const getPrototypeOf = O.getPrototypeOf;
  const ObjectProto = O.prototype;
  const StringProto = StringC.prototype;
  const SymbolSplit = Symbol.split;
  const hostCallsQueued = host.queued;
  const hostStash = host.stash;
  const PromiseC = Promise;
  const hasOwn = uncurry(O.prototype.hasOwnProperty);
  const WeakMapC = WeakMap;
  const weakGet = uncurry(WeakMap.prototype.get);
  const weakSet = uncurry(WeakMap.prototype.set);
  // Host calls are queued here and handed to the host in one crossing when the slice of guest code ends (a
  // 100-way fan-out is one JSON string, not 100 native calls). The queue is built as a string, by hand: no array
  // method, setter or toJSON that model code can redefine takes part. Promises are made here too, and settled by the
  // host through settleAll(); calls of an ended cell are forgotten and never settle.
  const STASH_MIN_CHARS = 1024;
  // What the calls queued in one slice may hold, in characters (set by setUp from the memory limit): their queue
  // inside QuickJS and its copies on the way out, and the long strings the worker keeps for them until the slice
  // ends, are bounded by it.
  let maxQueuedChars = 0;
  let queuedChars = 0;
  // Whether the context was copied into the worker (then pieces made by chunks() live there, and cross as strings).
  let textsInWorker = false;
  const waiting = create(null);
  let outgoing = "";
  let queued = 0;
  let nextCallId = 1;
  // An argument is a string, null, or a whole Text, which crosses as a reference. A long string is handed to the
  // worker as it is (hostStash decodes it natively and gives its place, or -1 if it cannot carry it whole), not
  // turned into JSON here: QuickJS's JSON.stringify takes ~5.6 ns a character. (UTF-8 cannot carry a lone
  // surrogate: such a string goes as JSON.)
  function stashable(a) {
    return typeof a === "string" && a.length >= STASH_MIN_CHARS && strIsWellFormed(a);
  }
  // An argument that does not go to the stash.
  function encodeArg(a) {
    if (typeof a === "string") return JSONstringify(a);
    if (a === null || a === undefined) return "null";
    return '{"$rlmText":' + textInfo(a)[0] + "}";
  }
  function stashArg(a) {
    const at = hostStash(a, a.length);
    return at >= 0 ? '{"$rlmStash":' + at + "}" : JSONstringify(a);
  }
  // Queues a call whose arguments are encoded (size: what they hold, checked) and returns its promise.
  function enqueue(kind, name, encoded, size) {
    queuedChars += size;
    const id = nextCallId++;
    // kind and name need no escaping: kinds are the API's own words, tool names are checked identifiers.
    outgoing += (queued > 0 ? ',[' : "[") + id + ',"' + kind + '","' + name + '",[' + encoded + "]]";
    if (queued++ === 0) hostCallsQueued();
    return new PromiseC(function (resolve, reject) {
      waiting[id] = [resolve, reject];
    });
  }
  // The common call, one short prompt (a fan-out's llm_query): hostCall's checks, without its loops.
  function hostCallShort(kind, prompt) {
    const size = prompt.length + 2;
    if (queuedChars + size > maxQueuedChars) return hostCall(kind, "", [prompt]); // (it throws, saying why)
    return enqueue(kind, "", JSONstringify(prompt), size);
  }
  function hostCall(kind, name, args) {
    // What the call would hold, checked before anything is handed over (a refused call leaves no trace). A piece of
    // a context copied into the worker crosses as its string.
    let size = 0;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      size += typeof a === "string" ? a.length + 2 : textsInWorker && isPiece(a) ? textInfo(a)[1] : 24;
    }
    const what = kind === "tool" ? name : kind;
    if (size > maxQueuedChars) {
      throw new RangeErrorC(what + ": this call's arguments hold more than " + maxQueuedChars +
        " characters, more than the sandbox can hand over; pass a Text as it is, or less text");
    }
    if (queuedChars + size > maxQueuedChars) {
      throw new RangeErrorC(what + ": the calls made since the last await would hold more than " +
        maxQueuedChars + " characters, more than the sandbox can hand over; await some of them first");
    }
    // Arguments that go as JSON first: if making one fails, no string has been handed over yet.
    const parts = create(null); // no prototype: no setter model code put on Array.prototype runs
    for (let i = 0; i < args.length; i++) parts[i] = stashable(args[i]) ? null : encodeArg(args[i]);
    let encoded = "";
    for (let i = 0; i < args.length; i++) encoded += (i > 0 ? "," : "") + (parts[i] === null ? stashArg(args[i]) : parts[i]);
    return enqueue(kind, name, encoded, size);
  }
  function takeCalls() {
    const taken = outgoing; // the queue is reset first: making its string may fail
    outgoing = "";
    queued = 0;
    queuedChars = 0;
    return "[" + taken + "]";
  }
  function toError(e) {
    const isObject = e !== null && typeof e === "object";
    const error = new ErrorC(isObject ? StringC(e.message) : StringC(e));
    defineProperty(error, "name", { value: isObject ? StringC(e.name) : "Error", writable: true, configurable: true });
    return error;
  }
  // [[id, 1, value?] | [id, 2, items] | [id, 0, { name, message }], ...]: 1 is an answer (a missing value is
  // undefined); 2 is a batch in which failed items are { $rlmError: { name, message } }, given as Error values.
  function settleAll(json) {
    const list = JSONparse(json);
    for (let i = 0; i < list.length; i++) {
      const entry = list[i];
      const w = waiting[entry[0]];
      if (w === undefined) continue;
      delete waiting[entry[0]];
      if (entry[1] === 0) {
        w[1](toError(entry[2]));
        continue;
      }
      const value = entry.length > 2 ? entry[2] : undefined;
      if (entry[1] === 2) {
        for (let j = 0; j < value.length; j++) {
          const item = value[j];
          if (item !== null && typeof item === "object" && hasOwn(item, "$rlmError")) value[j] = toError(item.$rlmError);
        }
      }
      w[0](value);
    }
  }
  function forget(ids) {
    for (let i = 0; i < ids.length; i++) delete waiting[ids[i]];
  }
  const hostLog = host.log;
  const hostFinal = host.final;
  const hostText = host.text;
  // Each Text (its proxy and its target) -> [id, length]. Kept here, not on the object, so model code can neither
  // read nor forge it.
  const texts = new WeakMapC();
  // Texts made by chunks() (with the context copied into the worker, they live there; see hostCall).
  const pieceTexts = new WeakMapC();
  function isPiece(x) {
    return x !== null && typeof x === "object" && weakGet(pieceTexts, x) !== undefined;
  }
  function isText(x) {
    return x !== null && typeof x === "object" && weakGet(texts, x) !== undefined;
  }
  function textInfo(x) {
    const info = x !== null && typeof x === "object" ? weakGet(texts, x) : undefined;
    if (info === undefined) throw new TypeErrorC("Text methods must be called on a Text");
    return info;
  }
  const MAX_FORMAT_CHARS = 20000;

  // ---- formatting (console output and the value of a cell's last expression) -----------------------------------
  function formatValue(value, depth, seen) {
    const t = typeof value;
    if (t === "string") return depth === 0 ? value : JSONstringify(value);
    if (t === "number" || t === "boolean" || t === "undefined" || t === "bigint") return StringC(value) + (t === "bigint" ? "n" : "");
    if (t === "symbol") return StringC(value);
    if (t === "function") return "[Function " + (value.name || "anonymous") + "]";
    if (value === null) return "null";
    if (isText(value)) return depth === 0 ? hostText(textInfo(value)[0], "all") : "[Text length=" + textInfo(value)[1] + "]";
    if (value instanceof ErrorC) return StringC(value.name) + ": " + StringC(value.message);
    for (let i = 0; i < seen.length; i++) if (seen[i] === value) return "[Circular]";
    if (depth > 4) return isArray(value) ? "[Array]" : "[Object]";
    push(seen, value);
    const parts = [];
    let size = 0;
    if (isArray(value)) {
      const n = value.length;
      for (let i = 0; i < n && i < 100 && size < MAX_FORMAT_CHARS; i++) {
        const s = formatValue(value[i], depth + 1, seen);
        size += s.length;
        push(parts, s);
      }
      if (n > parts.length) push(parts, "... " + (n - parts.length) + " more items");
      pop(seen);
      return "[" + join(parts, ", ") + "]";
    }
    let names;
    try { names = keysOf(value); } catch (e) { names = []; }
    for (let i = 0; i < names.length && i < 100 && size < MAX_FORMAT_CHARS; i++) {
      let v;
      try { v = value[names[i]]; } catch (e) { v = "[getter threw]"; }
      const s = JSONstringify(names[i]) + ": " + formatValue(v, depth + 1, seen);
      size += s.length;
      push(parts, s);
    }
    if (names.length > parts.length) push(parts, "... " + (names.length - parts.length) + " more keys");
    pop(seen);
    return "{" + join(parts, ", ") + "}";
  }
  function format(value) {
    return formatValue(value, 0, []);
  }
  function printArgs(args) {
    const parts = [];
    for (let i = 0; i < args.length; i++) push(parts, formatValue(args[i], 0, []));
    hostLog(join(parts, " "));
  }

  // ---- host-backed text --------------------------------------------------------------------------------------------
  // A large string from the context. It stays in host memory; its methods run natively and return ordinary values.
  function pattern(p) {
    if (p instanceof RegExpC) return ["re", p.source, p.flags];
    return ["str", StringC(p), ""];
  }
  // Splitting by a string natively looks up String.prototype[Symbol.split] (a primitive separator's method): only
  // while model code has not put one there (or changed the prototypes) is that QuickJS's own split.
  function nativeSplitIsSafe() {
    return getPrototypeOf(StringProto) === ObjectProto && getPrototypeOf(ObjectProto) === null &&
      !hasOwn(StringProto, SymbolSplit) && !hasOwn(ObjectProto, SymbolSplit);
  }
  function Text() { throw new TypeErrorC("Text objects are created by the sandbox"); }
  function makeText(id, length) {
    const t = create(Text.prototype);
    const proxy = new ProxyC(t, {
      get(target, key) {
        if (typeof key === "string" && key.length > 0 && key.length < 17 && key[0] >= "0" && key[0] <= "9") {
          const i = +key;
          if (i === i && i >= 0 && i < length && (i | 0) === i) return hostText(id, "charAt", i);
        }
        return ReflectGet(target, key, target);
      },
    });
    freeze(t); // model code cannot give one Text its own toString, toJSON, ...
    weakSet(texts, t, [id, length]);
    weakSet(texts, proxy, [id, length]);
    return proxy;
  }
  const plain = (op) => function () { return hostText(textInfo(this)[0], op, arguments[0], arguments[1], arguments[2]); };
  const viaPattern = (op) => function (p, a, b) { const q = pattern(p); return hostText(textInfo(this)[0], op, q[0], q[1], q[2], a, b); };
  const jsonViaPattern = (op) => function (p, a, b) { const q = pattern(p); return JSONparse(hostText(textInfo(this)[0], op, q[0], q[1], q[2], a, b)); };
  function matchObject(m, input) {
    const arr = m[0];
    arr.index = m[1];
    arr.input = input;
    arr.groups = m[2] === null ? undefined : m[2];
    return arr;
  }
  const proto = Text.prototype;
  defineProperty(proto, "length", { get() { return textInfo(this)[1]; } });
  const methods = {
    slice: plain("slice"), substring: plain("substring"), substr: plain("substr"), charAt: plain("charAt"),
    charCodeAt: plain("charCodeAt"), codePointAt: plain("codePointAt"), at: plain("at"), indexOf: plain("indexOf"),
    lastIndexOf: plain("lastIndexOf"), includes: plain("includes"), startsWith: plain("startsWith"),
    endsWith: plain("endsWith"), toLowerCase: plain("toLowerCase"), toUpperCase: plain("toUpperCase"),
    trim: plain("trim"), trimStart: plain("trimStart"), trimEnd: plain("trimEnd"), normalize: plain("normalize"),
    search: viaPattern("search"),
    count: viaPattern("count"),
    split(sep, limit) {
      if (sep === undefined) return [this.toString()];
      const q = pattern(sep);
      if (q[0] === "str" && limit === undefined && nativeSplitIsSafe()) return strSplit(hostText(textInfo(this)[0], "splitWhole", q[1]), q[1]);
      return JSONparse(hostText(textInfo(this)[0], "split", q[0], q[1], q[2], limit));
    },
    match(p) {
      const q = pattern(p);
      const m = JSONparse(hostText(textInfo(this)[0], "match", q[0], q[1], q[2]));
      if (m === null || m.all) return m === null ? null : m.all;
      return matchObject(m.one, this);
    },
    matchAll(p) {
      if (p instanceof RegExpC && p.flags.indexOf("g") === -1) throw new TypeErrorC("matchAll must be called with a global RegExp");
      const q = pattern(p);
      const list = JSONparse(hostText(textInfo(this)[0], "matchAll", q[0], q[1], q[2]));
      for (let i = 0; i < list.length; i++) list[i] = matchObject(list[i], this);
      return arrayIterator(list);
    },
    replace(p, r) {
      if (typeof r === "function") return StringC.prototype.replace.call(this.toString(), p, r);
      const q = pattern(p);
      return hostText(textInfo(this)[0], "replace", q[0], q[1], q[2], StringC(r));
    },
    replaceAll(p, r) {
      if (typeof r === "function") return StringC.prototype.replaceAll.call(this.toString(), p, r);
      const q = pattern(p);
      return hostText(textInfo(this)[0], "replaceAll", q[0], q[1], q[2], StringC(r));
    },
    grep: jsonViaPattern("grep"),
    // The pieces are Texts held by the host (a sub-call given one gets it without a copy).
    chunks(sizeChars, overlapChars) {
      const list = revive(hostText(textInfo(this)[0], "chunks", sizeChars, overlapChars));
      for (let i = 0; i < list.length; i++) if (typeof list[i] === "object") weakSet(pieceTexts, list[i], true);
      return list;
    },
    lines() { return this.split("\n"); },
    toString() { return hostText(textInfo(this)[0], "all"); },
    valueOf() { return hostText(textInfo(this)[0], "all"); },
    toJSON() { return hostText(textInfo(this)[0], "all"); },
  };
  for (const name of getOwnPropertyNames(methods)) defineProperty(proto, name, { value: methods[name] });
  defineProperty(proto, Symbol.toPrimitive, { value: function () { return hostText(textInfo(this)[0], "all"); } });
  defineProperty(proto, Symbol.iterator, { value: function () { return StringC.prototype[Symbol.iterator].call(this.toString()); } });
  defineProperty(proto, Symbol.toStringTag, { value: "Text" });
  freeze(proto);
  freeze(Text);

  function revive(json) {
    return JSONparse(json, function (key, value) {
      if (value !== null && typeof value === "object" && !isArray(value) && typeof value.$rlmText === "number") {
        return makeText(value.$rlmText, value.length);
      }
      return value;
    });
  }

  // ---- the REPL API ------------------------------------------------------------------------------------------------
  // A whole Text given to a sub-call or tool stays a Text in the call's arguments and crosses by reference
  // ({ "$rlmText": id }, see encodeArg): the host passes on the string it already holds, so a context larger than
  // this sandbox's memory can still go to a sub-call.
  function toPrompt(x, name) {
    if (typeof x === "string") return x;
    if (isText(x)) return x;
    if (x === undefined) throw new TypeErrorC(name + ": expected a prompt string, got undefined");
    if (typeof x === "object" && x !== null) {
      try { return JSONstringify(x); } catch (e) { throw new TypeErrorC(name + ": the prompt is an object that cannot be turned into JSON (" + e.message + ")"); }
    }
    return StringC(x);
  }
  function toData(x) {
    if (isText(x)) return x;
    if (x === undefined) return undefined;
    try { return JSONstringify(x); } catch (e) { throw new TypeErrorC("the value cannot be turned into JSON (" + e.message + ")"); }
  }
  function llm_query(prompt) {
    if (typeof prompt === "string" && prompt.length < STASH_MIN_CHARS) return hostCallShort("llm_query", prompt);
    return hostCall("llm_query", "", [toPrompt(prompt, "llm_query(prompt)")]);
  }
  function llm_query_batched(prompts) {
    if (!isArray(prompts)) throw new TypeErrorC("llm_query_batched(prompts): expected an array of prompt strings, got " + (prompts === null ? "null" : typeof prompts));
    const list = [];
    for (let i = 0; i < prompts.length; i++) push(list, toPrompt(prompts[i], "llm_query_batched(prompts[" + i + "])"));
    return hostCall("llm_query_batched", "", list);
  }
  function rlm_query(prompt, subContext) {
    const p = toPrompt(prompt, "rlm_query(prompt)");
    if (subContext === undefined) return hostCall("rlm_query", "", [p]);
    if (typeof subContext === "string") return hostCall("rlm_query", "", [p, subContext]);
    if (isText(subContext)) return hostCall("rlm_query", "", [p, subContext]);
    const data = toData(subContext);
    return hostCall("rlm_query", "json", [p, data]);
  }
  function FINAL(value) {
    if (arguments.length === 0 || value === undefined) throw new TypeErrorC("FINAL(value): expected a value (a string, or any JSON-serialisable value), got undefined");
    let answer;
    let json;
    if (typeof value === "string") answer = value;
    else if (isText(value)) answer = hostText(textInfo(value)[0], "all");
    else if (typeof value === "function" || typeof value === "symbol") throw new TypeErrorC("FINAL(value): cannot return a " + typeof value + "; pass a string or a JSON-serialisable value");
    else {
      try { json = JSONstringify(value); } catch (e) { throw new TypeErrorC("FINAL(value): the value cannot be serialised as JSON (" + e.message + "); pass a string, or a plain object or array without cycles"); }
      if (json === undefined) throw new TypeErrorC("FINAL(value): the value cannot be serialised as JSON");
      answer = typeof value === "object" && value !== null ? json : StringC(value);
    }
    // JSON keeps lone surrogates intact on the way out (a plain string crossing to the host would lose them).
    hostFinal(JSONstringify(answer), json);
    return value;
  }
  const builtins = {};
  function userVariables() {
    const names = getOwnPropertyNames(G);
    const out = [];
    for (let i = 0; i < names.length; i++) if (builtins[names[i]] !== true) push(out, names[i]);
    return out;
  }
  function FINAL_VAR(name) {
    if (typeof name !== "string") {
      if (name === undefined) throw new TypeErrorC("FINAL_VAR(name): expected the variable's name as a string");
      return FINAL(name);
    }
    const vars = userVariables();
    let known = false;
    for (let i = 0; i < vars.length; i++) if (vars[i] === name) known = true;
    if (!known) {
      throw new ReferenceErrorC('FINAL_VAR: no variable named "' + name + '". Variables defined so far: ' + (vars.length ? join(vars, ", ") : "(none)"));
    }
    return FINAL(G[name]);
  }
  function SHOW_VARS() {
    const vars = userVariables();
    if (vars.length === 0) return "(no variables defined yet)";
    const lines = [];
    for (let i = 0; i < vars.length; i++) {
      let v;
      try { v = G[vars[i]]; } catch (e) { v = undefined; }
      let kind = v === null ? "null" : isArray(v) ? "array(" + v.length + ")" : typeof v;
      if (typeof v === "string") kind = "string(" + v.length + ")";
      let preview = formatValue(v, 1, []);
      if (preview.length > 80) preview = strSlice(preview, 0, 77) + "...";
      push(lines, vars[i] + ": " + kind + " = " + preview);
    }
    return join(lines, "\n");
  }
  const consoleObject = freeze({
    log: function log() { printArgs(arguments); },
    info: function info() { printArgs(arguments); },
    warn: function warn() { printArgs(arguments); },
    error: function error() { printArgs(arguments); },
    debug: function debug() { printArgs(arguments); },
  });
  function print() { printArgs(arguments); }

  const api = { llm_query, llm_query_batched, rlm_query, FINAL, FINAL_VAR, SHOW_VARS, print, console: consoleObject, Text };
  // Accessors, not data properties: QuickJS lets Object.defineProperty replace a non-configurable *data* property
  // of the global object, but honours non-configurable accessors.
  const lock = (name, value) => defineProperty(G, name, { get: () => value, enumerable: false, configurable: false });
  for (const name of getOwnPropertyNames(api)) lock(name, api[name]);
  // Host-only powers QuickJS might expose are removed; model code gets plain ECMAScript.
  for (const name of ["os", "std", "scriptArgs", "gc"]) { try { delete G[name]; } catch (e) {} }
  function tool(toolName) {
    return function () {
      const args = [];
      for (let j = 0; j < arguments.length; j++) push(args, toData(arguments[j]) ?? null);
      return hostCall("tool", toolName, args);
    };
  }
  // Called once, before any model code, by the run that takes this (possibly prepared ahead) sandbox: its tools,
  // its context, and the names that are not the model's variables.
  function setUp(toolNames, skeletonJSON, maxCallChars, inWorker) {
    maxQueuedChars = maxCallChars;
    textsInWorker = inWorker;
    for (let i = 0; i < toolNames.length; i++) lock(toolNames[i], tool(toolNames[i]));
    lock("context", revive(skeletonJSON));
    const names = getOwnPropertyNames(G);
    for (let i = 0; i < names.length; i++) builtins[names[i]] = true;
  }
  return { format, setUp, takeCalls, settleAll, forget, parseJSON: JSONparse, stringifyJSON: JSONstringify };
})`;
