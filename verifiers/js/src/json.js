// Strict JSON reader for SPEC.md §10.
//
// RFC 8259 text, with the extra rules of §10: no byte-order mark, no unpaired surrogate escape,
// nothing after the value but whitespace. Numbers are kept as their source text (`JNum`) so that
// integer fields can refuse `3.0`, `1e0` and `-0`; objects keep every key in order and remember
// whether one was repeated (`JObj.dup`), because a repeated key is an error whose code depends on
// where it is (a header field versus a schema label, §15.1).

export class JsonError extends Error {}

/** A JSON number, as written. */
export class JNum {
  constructor(raw) {
    this.raw = raw;
  }
}

/** A JSON object: its keys in order, and whether any key occurred twice. */
export class JObj {
  constructor() {
    this.map = new Map();
    this.dup = false;
  }
  get(k) {
    return this.map.get(k);
  }
  has(k) {
    return this.map.has(k);
  }
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/**
 * Parses a whole JSON text. Throws `JsonError` for anything RFC 8259 or §10 refuses.
 * @param {string} text
 */
export function parseJson(text) {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const fail = (what) => {
    throw new JsonError(`${what} at offset ${i}`);
  };
  const parseString = () => {
    // text[i] === '"'
    i++;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c === 0x5c) {
        out += text.slice(start, i);
        i++;
        if (i >= n) fail('unterminated escape');
        const e = text[i];
        i++;
        switch (e) {
          case '"': out += '"'; break;
          case '\\': out += '\\'; break;
          case '/': out += '/'; break;
          case 'b': out += '\b'; break;
          case 'f': out += '\f'; break;
          case 'n': out += '\n'; break;
          case 'r': out += '\r'; break;
          case 't': out += '\t'; break;
          case 'u': {
            const u = readHex4();
            if (u >= 0xd800 && u <= 0xdbff) {
              if (text[i] !== '\\' || text[i + 1] !== 'u') fail('unpaired surrogate escape');
              i += 2;
              const lo = readHex4();
              if (lo < 0xdc00 || lo > 0xdfff) fail('unpaired surrogate escape');
              out += String.fromCharCode(u, lo);
            } else if (u >= 0xdc00 && u <= 0xdfff) {
              fail('unpaired surrogate escape');
            } else {
              out += String.fromCharCode(u);
            }
            break;
          }
          default:
            fail('invalid escape');
        }
        start = i;
        continue;
      }
      // Raw surrogates cannot come from strict UTF-8 decoding, so every pair here is whole.
      i++;
    }
  };
  const readHex4 = () => {
    const h = text.slice(i, i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) fail('invalid \\u escape');
    i += 4;
    return parseInt(h, 16);
  };
  const parseValue = () => {
    ws();
    if (i >= n) fail('unexpected end');
    const c = text[i];
    if (c === '{') {
      i++;
      const obj = new JObj();
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a key');
        const k = parseString();
        ws();
        if (text[i] !== ':') fail('expected :');
        i++;
        const v = parseValue();
        if (obj.map.has(k)) obj.dup = true;
        else obj.map.set(k, v);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        fail('expected , or }');
      }
    }
    if (c === '[') {
      i++;
      const arr = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('expected , or ]');
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (m && m[0].length > 0) {
      i += m[0].length;
      return new JNum(m[0]);
    }
    fail('unexpected character');
  };
  try {
    const v = parseValue();
    ws();
    if (i !== n) fail('trailing characters');
    return v;
  } catch (e) {
    if (e instanceof RangeError) throw new JsonError('nesting too deep');
    throw e;
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Strict UTF-8 decoding (a BOM is kept, so the JSON reader refuses it). */
export function decodeUtf8(bytes) {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new JsonError('not UTF-8');
  }
}

/** Parses JSON from bytes: UTF-8 first, then `parseJson`. */
export function parseJsonBytes(bytes) {
  return parseJson(decodeUtf8(bytes));
}

/**
 * Serializes a report value: objects are plain objects (key order kept), BigInt and number are
 * integers. Pretty-printed with two spaces.
 */
export function stringify(v, indent = '') {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  const inner = indent + '  ';
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => inner + stringify(x, inner)).join(',\n')}\n${indent}]`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${stringify(v[k], inner)}`).join(',\n')}\n${indent}}`;
}
