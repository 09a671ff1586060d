#!/usr/bin/env node
// undersign-audit: the second Undersign auditor (SPEC.md §15), in JavaScript.
//
//   node bin/undersign-audit.js audit [--json] BUNDLE --registrar-key KEY [--vk-hash HASH]
//        [--jobs N]   (proofs are verified in N processes; default: one per core)
//
// Exit status as `undersign audit` (§15.5): 0 valid, 1 not valid (report printed), 2 usage error
// or unreadable bundle (message on stderr, nothing on stdout).

import { readFileSync } from 'node:fs';
import { audit, fromHex, toHex } from '../src/audit.js';
import { releaseCurve } from '../src/curve.js';
import { isValidPublicKey, publicKeyOf } from '../src/ed25519.js';
import { JObj, parseJson, stringify } from '../src/json.js';
import { ProofPool } from '../src/pool.js';
import { availableParallelism } from 'node:os';

class Usage extends Error {}

const HEX64_ANY = /^[0-9a-fA-F]{64}$/;

/** The registrar key argument (§15.5): 64 hex digits in either case, or a file holding the key. */
function registrarKey(arg) {
  let hex;
  if (HEX64_ANY.test(arg)) {
    hex = arg.toLowerCase();
  } else {
    let text;
    try {
      text = readFileSync(arg, 'utf8');
    } catch {
      throw new Usage(`--registrar-key: not 64 hexadecimal digits nor a readable file: ${arg}`);
    }
    const trimmed = text.trim();
    if (HEX64_ANY.test(trimmed)) {
      hex = trimmed.toLowerCase();
    } else {
      hex = keyFile(text);
    }
  }
  if (!isValidPublicKey(fromHex(hex))) throw new Usage('--registrar-key: not a valid registrar public key');
  return hex;
}

/** A registrar key file (§12): its public key, checked against its seed. */
function keyFile(text) {
  let v;
  try {
    v = parseJson(text);
  } catch {
    throw new Usage('--registrar-key: the file is neither a key nor a registrar key file');
  }
  const fields = ['version', 'kind', 'secret_key', 'public_key'];
  const ok =
    v instanceof JObj &&
    !v.dup &&
    v.map.size === 4 &&
    fields.every((f) => v.has(f)) &&
    v.get('version')?.raw === '1' &&
    v.get('kind') === 'undersign-registrar-key' &&
    /^[0-9a-f]{64}$/.test(v.get('secret_key')) &&
    /^[0-9a-f]{64}$/.test(v.get('public_key'));
  if (!ok) throw new Usage('--registrar-key: not a registrar key file');
  if (toHex(publicKeyOf(fromHex(v.get('secret_key')))) !== v.get('public_key')) {
    throw new Usage('--registrar-key: the key file\'s public key does not match its secret key');
  }
  return v.get('public_key');
}

function parseArgs(argv) {
  if (argv[0] !== 'audit') throw new Usage('usage: undersign-audit audit [--json] BUNDLE --registrar-key KEY [--vk-hash HASH]');
  const o = { json: false, bundle: null, key: null, vkHash: null, jobs: availableParallelism() };
  const args = argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    let val = null;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      val = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const value = () => {
      if (val !== null) return val;
      if (i + 1 >= args.length) throw new Usage(`${a} needs a value`);
      return args[++i];
    };
    if (a === '--json') {
      if (o.json || val !== null) throw new Usage('--json given twice or with a value');
      o.json = true;
    }
    else if (a === '--registrar-key') {
      if (o.key !== null) throw new Usage('--registrar-key given twice');
      o.key = value();
    } else if (a === '--vk-hash') {
      if (o.vkHash !== null) throw new Usage('--vk-hash given twice');
      o.vkHash = value();
    } else if (a === '--jobs') {
      const t = value();
      if (!/^[1-9][0-9]{0,2}$/.test(t)) throw new Usage('--jobs: a number of processes, 1 to 999');
      o.jobs = Number(t);
    } else if (a === '--ceremony' || a === '--registry') {
      throw new Usage(`${a} is not supported by this auditor`);
    } else if (a.startsWith('-') && a !== '-') {
      throw new Usage(`unknown option ${a}`);
    } else if (o.bundle === null) o.bundle = a;
    else throw new Usage(`unexpected argument ${a}`);
  }
  if (o.bundle === null) throw new Usage('no bundle given');
  if (o.key === null) throw new Usage('--registrar-key is required');
  o.key = registrarKey(o.key);
  if (o.vkHash !== null) {
    if (!HEX64_ANY.test(o.vkHash)) throw new Usage('--vk-hash: not 64 hexadecimal digits');
    o.vkHash = o.vkHash.toLowerCase();
  }
  return o;
}

function text(r) {
  const out = [];
  if (r.fatal) out.push(`INVALID: ${r.fatal.code}: ${r.fatal.message}`);
  else {
    out.push(`petition ${r.petition}: ${r.title}`);
    out.push(`count: ${r.count}${r.double_count_bound.members ? ` (up to ${r.double_count_bound.members} may be double)` : ''}`);
    for (const x of r.rejected) out.push(`line ${x.line}: ${x.code}: ${x.reason}`);
    for (const p of r.problems) out.push(`problem: ${p.code}: ${p.message}`);
    out.push(r.valid ? 'VALID' : 'INVALID');
  }
  if (!r.verifying_key_pinned) out.push('note: no verifying key hash pinned (--vk-hash)');
  return out.join('\n') + '\n';
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof Usage) {
      process.stderr.write(`error: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  let bytes;
  try {
    bytes = readFileSync(o.bundle);
  } catch (e) {
    process.stderr.write(`error: cannot read ${o.bundle}: ${e.message}\n`);
    return 2;
  }
  if (bytes.length === 0) {
    process.stderr.write(`error: ${o.bundle} is empty\n`);
    return 2;
  }
  let report;
  try {
    report = await audit(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), o.key, o.vkHash, {
      // Worker processes pay for themselves from a few dozen proofs on.
      proofChecker:
        o.jobs > 1
          ? (vkJson, lines) => {
              if (lines < 64) return null;
              const pool = new ProofPool(o.jobs);
              return { check: (tasks) => pool.check(vkJson, tasks), close: () => pool.close() };
            }
          : undefined,
    });
  } finally {
    await releaseCurve();
  }
  process.stdout.write(o.json ? stringify(report) + '\n' : text(report));
  return report.valid ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`error: ${e.stack ?? e}\n`);
    process.exitCode = 2;
  },
);
