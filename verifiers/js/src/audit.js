// The audit of SPEC.md §15: header (§15.1), signature lines (§15.2), the bundle as a whole
// (§15.3) and the report (§15.4). Written from SPEC.md alone; shares no code with the Rust
// auditor.

import { blake3 } from '@noble/hashes/blake3.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { JNum, JObj, JsonError, decodeUtf8, parseJson } from './json.js';
import {
  R,
  PointError,
  VerifyingKeyError,
  checkProofs,
  decodeVerifyingKey,
  snarkjsVerificationKey,
} from './curve.js';
import { isValidPublicKey, verifyStrict } from './ed25519.js';

const enc = new TextEncoder();
const U64_MAX = (1n << 64n) - 1n;
const HEADER_MAX = 16777216;
const LINE_MAX = 4096;
const REJECTED_LISTED = 10000;
const COMMENTS_TRACKED = 10000;

/** A rule broken; `code` is the stable code of §15. */
class Fatal extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}
class Bad extends Error {}

// ---------------------------------------------------------------------------------------------
// Encodings (§2)

/** Lowercase hex of bytes. */
export const toHex = (b) => bytesToHex(b);
/** Bytes of hex digits (callers check the digits first). */
export const fromHex = (h) => hexToBytes(h);

/** Compares strings by their UTF-8 bytes (the order of §11 labels and §15.4 keys). */
function byUtf8(a, b) {
  const x = enc.encode(a);
  const y = enc.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}
const HEX64 = /^[0-9a-f]{64}$/;
const FE = /^0x[0-9a-f]{64}$/;

function be(bytes) {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}
function u64le(v) {
  const b = new Uint8Array(8);
  let x = v;
  for (let i = 0; i < 8; i++) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return b;
}
function be32(v) {
  const b = new Uint8Array(32);
  let x = v;
  for (let i = 31; i >= 0; i--) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return b;
}
function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
const utf8Len = (s) => enc.encode(s).length;

/** `digest_to_field` of §6: first 31 bytes of blake3 derive_key, big-endian. */
export function digestToField(context, bytes) {
  return be(blake3(bytes, { context: enc.encode(context) }).subarray(0, 31));
}

// Field readers: each throws `Bad` when the value is not what the rule asks for.
function obj(v, fields) {
  if (!(v instanceof JObj) || v.dup) throw new Bad('not an object without repeated keys');
  if (fields) {
    if (v.map.size !== fields.length || fields.some((f) => !v.has(f))) throw new Bad('wrong fields');
  }
  return v;
}
function uint(v, max = U64_MAX) {
  if (!(v instanceof JNum) || !/^(0|[1-9][0-9]*)$/.test(v.raw)) throw new Bad('not an integer');
  const x = BigInt(v.raw);
  if (x > max) throw new Bad('integer out of range');
  return x;
}
function str(v) {
  if (typeof v !== 'string') throw new Bad('not a string');
  return v;
}
function hex64(v) {
  if (typeof v !== 'string' || !HEX64.test(v)) throw new Bad('not 64 lowercase hex digits');
  return v;
}
function fe(v) {
  if (typeof v !== 'string' || !FE.test(v)) throw new Bad('not a field element');
  const x = BigInt(v);
  if (x >= R) throw new Bad('field element not below r');
  return v;
}
function arr(v) {
  if (!Array.isArray(v)) throw new Bad('not an array');
  return v;
}

// ---------------------------------------------------------------------------------------------
// Checkpoints (§12)

const CHECKPOINT_FIELDS = [
  'registry',
  'sequence',
  'size',
  'removed',
  'removed_since_previous',
  'root',
  'schema',
  'time',
  'previous',
  'public_key',
  'signature',
];

function readCheckpoint(v) {
  obj(v, CHECKPOINT_FIELDS);
  const c = {
    registry: hex64(v.get('registry')),
    sequence: uint(v.get('sequence')),
    size: uint(v.get('size')),
    removed: uint(v.get('removed')),
    removed_since_previous: uint(v.get('removed_since_previous')),
    root: fe(v.get('root')),
    schema: hex64(v.get('schema')),
    time: uint(v.get('time')),
    previous: hex64(v.get('previous')),
    public_key: hex64(v.get('public_key')),
    signature: str(v.get('signature')),
  };
  if (!/^[0-9a-f]{128}$/.test(c.signature)) throw new Bad('signature not 128 lowercase hex digits');
  if (!isValidPublicKey(fromHex(c.public_key))) throw new Bad('public key not a valid point');
  return c;
}

function checkpointMessage(c) {
  return concat([
    enc.encode('undersign v1 checkpoint\n'),
    fromHex(c.registry),
    u64le(c.sequence),
    u64le(c.size),
    u64le(c.removed),
    u64le(c.removed_since_previous),
    be32(BigInt(c.root)),
    fromHex(c.schema),
    u64le(c.time),
    fromHex(c.previous),
  ]);
}

/** Checks a valid chain for key `key` (hex); sets `c.hash` on each. Throws `Fatal`. */
function checkChain(chain, key, registry) {
  const fail = (msg) => {
    throw new Fatal('chain_invalid', `checkpoint chain: ${msg}`);
  };
  let prev = null;
  chain.forEach((c, i) => {
    const at = `checkpoint ${i}`;
    if (c.sequence !== BigInt(i)) fail(`${at}: sequence ${c.sequence}, expected ${i}`);
    if (c.public_key !== key) fail(`${at}: public key ${c.public_key} is not the registrar key ${key}`);
    if (c.registry !== chain[0].registry) fail(`${at}: another registry id`);
    const expectPrev = prev === null ? '0'.repeat(64) : prev.hash;
    if (c.previous !== expectPrev) fail(`${at}: previous is not the hash of the checkpoint before`);
    const msg = checkpointMessage(c);
    if (!verifyStrict(fromHex(c.signature), msg, fromHex(key))) fail(`${at}: bad signature`);
    c.hash = toHex(blake3(msg));
    if (c.removed > c.size) fail(`${at}: removed exceeds size`);
    if (prev === null) {
      if (c.removed_since_previous !== 0n) fail(`${at}: removed_since_previous must be 0`);
    } else {
      if (c.size < prev.size) fail(`${at}: size decreases`);
      if (c.time < prev.time) fail(`${at}: time decreases`);
      if (c.removed_since_previous > prev.size - prev.removed) fail(`${at}: removal counts`);
      if (c.removed < prev.removed + c.removed_since_previous) fail(`${at}: removal counts`);
      if (c.removed - prev.removed - c.removed_since_previous > c.size - prev.size) {
        fail(`${at}: removal counts`);
      }
    }
    prev = c;
  });
  if (chain.length > 0 && chain[0].registry !== registry) fail("the registry id is not the petition's");
}

// ---------------------------------------------------------------------------------------------
// Schema (§11)

/** Validates the schema and returns its slots and canonical-JSON hash. Throws `Bad`. */
function readSchema(v) {
  obj(v, ['version', 'kind', 'slots']);
  if (uint(v.get('version')) !== 1n) throw new Bad('version is not 1');
  if (v.get('kind') !== 'undersign-schema') throw new Bad('kind');
  const slots = arr(v.get('slots'));
  if (slots.length > 4) throw new Bad('more than 4 slots');
  const names = new Set();
  const out = slots.map((s) => {
    obj(s, ['name', 'labels']);
    const name = str(s.get('name'));
    if (!/^[a-z0-9_-]+$/.test(name)) throw new Bad('slot name');
    if (names.has(name)) throw new Bad('repeated slot name');
    names.add(name);
    const labels = obj(s.get('labels'));
    const codes = new Map();
    const entries = [];
    for (const [label, c] of labels.map) {
      if (label.length === 0) throw new Bad('empty label');
      const code = uint(c, 65535n);
      if (code === 0n) throw new Bad('code 0');
      if (codes.has(code)) throw new Bad('repeated code');
      codes.set(code, label);
      entries.push([label, code]);
    }
    entries.sort((a, b) => byUtf8(a[0], b[0]));
    return { name, codes, entries };
  });
  const canon =
    '{"version":1,"kind":"undersign-schema","slots":[' +
    out
      .map(
        (s) =>
          `{"name":${JSON.stringify(s.name)},"labels":{` +
          s.entries.map(([l, c]) => `${JSON.stringify(l)}:${c}`).join(',') +
          '}}',
      )
      .join(',') +
    ']}';
  return { slots: out, hash: toHex(blake3(enc.encode(canon))) };
}

// ---------------------------------------------------------------------------------------------
// Petition (§13)

const PETITION_FIELDS = [
  'version',
  'kind',
  'title',
  'text',
  'registry',
  'registrar_key',
  'verifying_key',
  'proving_key',
  'disclose',
  'min_checkpoint',
  'min_checkpoint_hash',
  'max_checkpoint',
  'nonce',
];

function readPetition(text) {
  const v = obj(parseJson(text), PETITION_FIELDS);
  if (uint(v.get('version')) !== 1n) throw new Bad('version is not 1');
  if (v.get('kind') !== 'undersign-petition') throw new Bad('kind');
  const title = str(v.get('title'));
  if (!/[^\p{White_Space}]/u.test(title)) throw new Bad('blank title');
  if (utf8Len(title) > 500) throw new Bad('title over 500 bytes');
  if (utf8Len(str(v.get('text'))) > 100000) throw new Bad('text over 100,000 bytes');
  const p = {
    title,
    registry: hex64(v.get('registry')),
    registrar_key: hex64(v.get('registrar_key')),
    verifying_key: hex64(v.get('verifying_key')),
    proving_key: hex64(v.get('proving_key')),
    min_checkpoint_hash: hex64(v.get('min_checkpoint_hash')),
    nonce: hex64(v.get('nonce')),
    min: uint(v.get('min_checkpoint')),
    max: v.get('max_checkpoint') === null ? null : uint(v.get('max_checkpoint')),
    disclose: arr(v.get('disclose')).map((x) => uint(x)),
  };
  if (!isValidPublicKey(fromHex(p.registrar_key))) throw new Bad('registrar_key is not a valid key');
  let last = -1n;
  for (const d of p.disclose) {
    if (d >= 4n || d <= last) throw new Bad('disclose');
    last = d;
  }
  if (p.max !== null && p.max < p.min) throw new Bad('max_checkpoint below min_checkpoint');
  p.allowedMask = p.disclose.reduce((m, d) => m | (1 << Number(d)), 0);
  return p;
}

// ---------------------------------------------------------------------------------------------
// Signature lines (§14, §15.2)

const SIGNATURE_FIELDS = ['version', 'kind', 'petition', 'root', 'nullifier', 'mask', 'disclosed', 'comment', 'proof'];

/** Reads one line into a signature; throws `Bad` (or `JsonError`, `PointError`): malformed. */
function readSignature(bytes) {
  const v = obj(parseJson(decodeUtf8(bytes)), SIGNATURE_FIELDS);
  if (uint(v.get('version')) !== 1n) throw new Bad('version is not 1');
  if (v.get('kind') !== 'undersign-signature') throw new Bad('kind');
  const s = {
    petition: hex64(v.get('petition')),
    root: fe(v.get('root')),
    nullifier: fe(v.get('nullifier')),
    mask: Number(uint(v.get('mask'), 15n)),
  };
  const disclosed = arr(v.get('disclosed'));
  if (disclosed.length !== 4) throw new Bad('disclosed needs 4 codes');
  s.codes = disclosed.map((c) => Number(uint(c, 65535n)));
  s.codes.forEach((c, i) => {
    if (c !== 0 && !(s.mask & (1 << i))) throw new Bad('a code outside the mask');
  });
  const comment = v.get('comment');
  if (comment !== null) {
    str(comment);
    if (utf8Len(comment) > 1000) throw new Bad('comment over 1,000 bytes');
  }
  s.comment = comment;
  const proof = v.get('proof');
  if (typeof proof !== 'string' || !/^[0-9a-f]{256}$/.test(proof)) throw new Bad('proof hex');
  s.proof = proof; // its points are decoded with the proof check (a point that does not decode is malformed)
  return s;
}

// ---------------------------------------------------------------------------------------------
// The audit

function emptyReport(pinned) {
  return {
    report_version: 1,
    valid: false,
    petition: null,
    title: null,
    registry: null,
    verifying_key_hash: null,
    verifying_key_pinned: pinned,
    newest_checkpoint: null,
    accepted_checkpoints: null,
    double_count_bound: { members: 0, first: null, last: null },
    count: 0,
    roots: [],
    breakdown: [],
    groups: [],
    comments_total: 0,
    comments: [],
    rejected: [],
    rejected_total: 0,
    rejected_by_code: {},
    problems: [],
    fatal: null,
  };
}

/** Splits at `\n`; the header is the first piece, then each line; one trailing `\r` dropped. */
function splitLines(bytes) {
  const out = [];
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, start);
    if (nl < 0) {
      if (start < bytes.length || out.length === 0) out.push({ bytes: bytes.subarray(start), nl: false });
      break;
    }
    out.push({ bytes: bytes.subarray(start, nl), nl: true });
    start = nl + 1;
    if (start === bytes.length) break;
  }
  return out.map((l) => {
    const b = l.bytes;
    const raw = b.length;
    const body = b.length > 0 && b[b.length - 1] === 0x0d ? b.subarray(0, b.length - 1) : b;
    return { body, rawWithNl: raw + (l.nl ? 1 : 0) };
  });
}

/**
 * Audits a bundle (`bytes`, non-empty) for registrar key `key` (lowercase hex) and an optional
 * pinned verifying key hash (lowercase hex). Returns the report of §15.4.
 * Options: `onProgress(done, total)`, called as lines are checked; `proofChecker(vkJson,
 * lineCount)`, resolving to `{ check(tasks), close() }` with `check` as `checkProofs` of
 * `src/curve.js` (default, or when it resolves to null: that function, in this thread);
 * `chunk`, how many lines are read ahead of their proof checks (default 2048).
 */
export async function audit(bytes, key, pinned, options = {}) {
  const report = emptyReport(pinned !== null);
  const lines = splitLines(bytes);
  const header = lines[0];
  let ctx;
  try {
    ctx = await checkHeader(header, key, pinned, report);
  } catch (e) {
    if (!(e instanceof Fatal)) throw e;
    report.fatal = { code: e.code, message: e.message };
    report.double_count_bound = { members: 0, first: null, last: null };
    return report;
  }
  await checkLines(lines.slice(1), ctx, report, options);
  return report;
}

async function checkHeader(header, key, pinned, report) {
  // 1. header_too_long
  if (header.rawWithNl > HEADER_MAX) {
    throw new Fatal('header_too_long', `the first line is longer than ${HEADER_MAX} bytes`);
  }
  // 2. header_malformed
  let h;
  try {
    const v = obj(parseJson(decodeUtf8(header.body)), [
      'version',
      'kind',
      'petition_file',
      'schema',
      'checkpoints',
      'verifying_key',
      'verifying_key_hash',
      'signatures',
    ]);
    if (uint(v.get('version')) !== 1n) throw new Bad('version is not 1');
    if (v.get('kind') !== 'undersign-bundle') throw new Bad('kind is not undersign-bundle');
    h = {
      petition_file: str(v.get('petition_file')),
      schema: v.get('schema'),
      checkpoints: arr(v.get('checkpoints')).map(readCheckpoint),
      verifying_key: str(v.get('verifying_key')),
      verifying_key_hash: str(v.get('verifying_key_hash')),
      signatures: uint(v.get('signatures')),
    };
  } catch (e) {
    if (e instanceof Bad || e instanceof JsonError) {
      throw new Fatal('header_malformed', `the first line is not a bundle header: ${e.message}`);
    }
    throw e;
  }
  const petitionBytes = enc.encode(h.petition_file);
  report.petition = toHex(blake3(petitionBytes));
  const vkIsHex = /^([0-9a-f]{2})*$/.test(h.verifying_key);
  const vkBytes = vkIsHex ? fromHex(h.verifying_key) : null;
  if (vkIsHex) report.verifying_key_hash = toHex(blake3(vkBytes));
  if (h.checkpoints.length > 0) report.newest_checkpoint = h.checkpoints[h.checkpoints.length - 1].sequence;
  // 3. petition_invalid
  let p;
  try {
    p = readPetition(h.petition_file);
  } catch (e) {
    if (e instanceof Bad || e instanceof JsonError) throw new Fatal('petition_invalid', `petition: ${e.message}`);
    throw e;
  }
  report.title = p.title;
  report.registry = p.registry;
  report.accepted_checkpoints = { min: p.min, max: p.max };
  // 4. schema_invalid
  let schema;
  try {
    schema = readSchema(h.schema);
  } catch (e) {
    if (e instanceof Bad) throw new Fatal('schema_invalid', `schema: ${e.message}`);
    throw e;
  }
  // 5. verifying_key_invalid
  let vk;
  try {
    if (!vkIsHex) throw new VerifyingKeyError('not lowercase hex');
    vk = decodeVerifyingKey(vkBytes);
  } catch (e) {
    if (e instanceof VerifyingKeyError || e instanceof PointError) {
      throw new Fatal('verifying_key_invalid', `verifying_key: ${e.message}`);
    }
    throw e;
  }
  const vkHash = report.verifying_key_hash;
  // 6.-9.
  if (h.verifying_key_hash !== vkHash) {
    throw new Fatal('verifying_key_hash_mismatch', 'verifying_key_hash is not the hash of verifying_key');
  }
  if (pinned !== null && vkHash !== pinned) {
    throw new Fatal('verifying_key_not_pinned', `the verifying key ${vkHash} is not the pinned ${pinned}`);
  }
  if (vkHash !== p.verifying_key) {
    throw new Fatal('verifying_key_not_petition', "the verifying key is not the petition's");
  }
  if (p.registrar_key !== key) {
    throw new Fatal('registrar_key_mismatch', "the petition's registrar key is not the auditor's");
  }
  // 10. chain_invalid
  checkChain(h.checkpoints, key, p.registry);
  // 11. min_checkpoint_hash_mismatch
  if (p.min < BigInt(h.checkpoints.length)) {
    if (h.checkpoints[Number(p.min)].hash !== p.min_checkpoint_hash) {
      throw new Fatal('min_checkpoint_hash_mismatch', `checkpoint ${p.min} is not the petition's`);
    }
  }
  // 12. schema_not_signed
  for (const c of h.checkpoints) {
    if (c.schema !== schema.hash) {
      throw new Fatal('schema_not_signed', `checkpoint ${c.sequence} does not sign the embedded schema`);
    }
  }
  return {
    petition: p,
    petitionId: report.petition,
    scope: digestToField('undersign v1 petition scope', petitionBytes),
    schema,
    chain: h.checkpoints,
    signatures: h.signatures,
    vkJson: snarkjsVerificationKey(vk),
  };
}

function inWindow(p, seq) {
  return seq >= p.min && (p.max === null || seq <= p.max);
}

const CHUNK = 2048;

async function checkLines(lines, ctx, report, options) {
  const p = ctx.petition;
  // root -> checkpoints using it
  const byRoot = new Map();
  for (const c of ctx.chain) {
    if (!byRoot.has(c.root)) byRoot.set(c.root, []);
    byRoot.get(c.root).push(c);
  }
  const accepted = new Set();
  const counted = []; // accepted signatures with their checkpoint
  const comments = new Map(); // text -> count, the first COMMENTS_TRACKED distinct texts
  const byCode = new Map();
  let outOfOrder = 0;
  let firstOutOfOrder = null;
  let lastNullifier = null;
  const reject = (line, code, nullifier, reason) => {
    report.rejected_total++;
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
    if (report.rejected.length < REJECTED_LISTED) report.rejected.push({ line, code, nullifier, reason });
  };

  // Checks 1 (but the proof's points) to 6 of §15.2, for one line.
  const prepare = (body, lineNo) => {
    if (body.length > LINE_MAX) return { lineNo, malformed: `longer than ${LINE_MAX} bytes` };
    let s;
    try {
      s = readSignature(body);
    } catch (e) {
      if (e instanceof Bad || e instanceof JsonError) return { lineNo, malformed: e.message };
      throw e;
    }
    const line = { lineNo, s };
    if (s.petition !== ctx.petitionId) return { ...line, code: 'wrong_petition', reason: 'another petition' };
    if (s.mask & ~p.allowedMask) {
      return { ...line, code: 'mask_not_allowed', reason: 'discloses a slot the petition does not' };
    }
    const cps = byRoot.get(s.root);
    if (!cps) return { ...line, code: 'unknown_root', reason: 'no checkpoint has this root' };
    const ok = cps.filter((c) => inWindow(p, c.sequence));
    if (ok.length === 0) {
      if (cps.some((c) => c.sequence < p.min)) {
        return { ...line, code: 'root_before_minimum', reason: 'root of a checkpoint before the window' };
      }
      return { ...line, code: 'root_after_maximum', reason: 'root of a checkpoint after the window' };
    }
    const message = s.comment === null ? 0n : digestToField('undersign v1 signer message', enc.encode(s.comment));
    const disclosed = s.codes.reduce((acc, c, j) => acc + (BigInt(c) << BigInt(16 * j)), 0n);
    const inputs = [BigInt(s.root), ctx.scope, BigInt(s.nullifier), message, BigInt(s.mask), disclosed];
    return { ...line, checkpoint: ok[ok.length - 1], inputs: inputs.map(String) };
  };

  // The proof's points (check 1), then checks 2 to 8, in line order.
  const finish = (l) => {
    if (l.malformed !== undefined) return reject(l.lineNo, 'malformed', null, l.malformed);
    if (l.result.malformed !== undefined) return reject(l.lineNo, 'malformed', null, l.result.malformed);
    const s = l.s;
    if (l.code) return reject(l.lineNo, l.code, s.nullifier, l.reason);
    if (!l.result.valid) return reject(l.lineNo, 'invalid_proof', s.nullifier, 'the proof does not verify');
    if (lastNullifier !== null && s.nullifier < lastNullifier) {
      outOfOrder++;
      if (firstOutOfOrder === null) firstOutOfOrder = l.lineNo;
    }
    lastNullifier = s.nullifier;
    if (accepted.has(s.nullifier)) {
      return reject(l.lineNo, 'duplicate_nullifier', s.nullifier, 'this nullifier was already counted');
    }
    accepted.add(s.nullifier);
    counted.push({ s, checkpoint: l.checkpoint });
    if (s.comment !== null) {
      report.comments_total++;
      if (comments.has(s.comment)) comments.set(s.comment, comments.get(s.comment) + 1);
      else if (comments.size < COMMENTS_TRACKED) comments.set(s.comment, 1);
    }
  };

  const checker = (options.proofChecker && (await options.proofChecker(ctx.vkJson, lines.length))) || {
    check: (tasks) => checkProofs(ctx.vkJson, tasks),
    close: async () => {},
  };
  try {
    const chunk = options.chunk ?? CHUNK;
    for (let start = 0; start < lines.length; start += chunk) {
      const pre = lines.slice(start, start + chunk).map((l, k) => prepare(l.body, start + k + 2));
      const parsed = pre.filter((l) => l.s);
      const results = parsed.length ? await checker.check(parsed.map((l) => ({ proof: l.s.proof, inputs: l.inputs ?? null }))) : [];
      parsed.forEach((l, j) => {
        l.result = results[j];
      });
      pre.forEach(finish);
      if (options.onProgress) options.onProgress(Math.min(start + chunk, lines.length), lines.length);
    }
  } finally {
    await checker.close();
  }

  report.count = counted.length;
  // roots
  const perCp = new Map();
  for (const { checkpoint } of counted) perCp.set(checkpoint.sequence, (perCp.get(checkpoint.sequence) ?? 0) + 1);
  report.roots = [...perCp.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((seq) => ({ checkpoint: seq, root: ctx.chain[Number(seq)].root, count: perCp.get(seq) }));
  // breakdown
  report.breakdown = p.disclose.map((d) => {
    const slot = Number(d);
    const sch = ctx.schema.slots[slot];
    let undisclosed = 0;
    const codes = new Map();
    for (const { s } of counted) {
      if (!(s.mask & (1 << slot))) undisclosed++;
      else codes.set(s.codes[slot], (codes.get(s.codes[slot]) ?? 0) + 1);
    }
    const rows = [];
    if (undisclosed > 0) rows.push({ code: null, label: 'undisclosed', count: undisclosed });
    for (const code of [...codes.keys()].sort((a, b) => a - b)) {
      let label;
      if (code === 0) label = 'unset';
      else if (sch && sch.codes.has(BigInt(code))) label = sch.codes.get(BigInt(code));
      else label = `code ${code}`;
      rows.push({ code, label, count: codes.get(code) });
    }
    return { slot, name: sch ? sch.name : `slot${slot}`, rows };
  });
  // groups
  const groups = new Map();
  for (const { s } of counted) {
    const k = [s.mask, ...s.codes].join(',');
    if (!groups.has(k)) groups.set(k, { mask: s.mask, codes: s.codes, count: 0 });
    groups.get(k).count++;
  }
  report.groups = [...groups.values()].sort((a, b) => {
    if (a.mask !== b.mask) return a.mask - b.mask;
    for (let j = 0; j < 4; j++) if (a.codes[j] !== b.codes[j]) return a.codes[j] - b.codes[j];
    return 0;
  });
  // comments: most frequent first, then by UTF-8 bytes
  report.comments = [...comments.entries()]
    .sort((a, b) => b[1] - a[1] || byUtf8(a[0], b[0]))
    .map(([text, count]) => ({ text, count }));
  report.rejected_by_code = Object.fromEntries(
    [...byCode.keys()].sort(byUtf8).map((k) => [k, byCode.get(k)]),
  );
  // double-count bound (§13)
  const acc = ctx.chain.filter((c) => inWindow(p, c.sequence));
  if (acc.length > 0) {
    const first = acc[0].sequence;
    const last = acc[acc.length - 1].sequence;
    const members = ctx.chain
      .filter((c) => c.sequence > p.min && c.sequence <= last)
      .reduce((n, c) => n + c.removed_since_previous, 0n);
    report.double_count_bound = { members, first, last };
  }
  // problems (§15.3)
  if (outOfOrder > 0) {
    report.problems.push({
      code: 'out_of_order',
      message: `${outOfOrder} line${outOfOrder === 1 ? '' : 's'} out of nullifier order, the first at line ${firstOutOfOrder}`,
    });
  }
  if (!ctx.chain.some((c) => c.sequence >= p.min)) {
    report.problems.push({ code: 'chain_ends_before_minimum', message: 'the chain ends before min_checkpoint' });
  }
  if (ctx.signatures !== BigInt(lines.length)) {
    report.problems.push({
      code: 'signature_count_mismatch',
      message: `the header says ${ctx.signatures} signatures, the bundle has ${lines.length} lines`,
    });
  }
  report.valid = report.rejected_total === 0 && report.problems.length === 0;
}
