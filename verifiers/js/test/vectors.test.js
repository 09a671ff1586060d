// Conformance: every entry of tests/vectors/manifest.json, run with this auditor's CLI, must give
// the expected exit status and the expected report, ignoring `reason` and `message` values.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const vectors = join(here, '..', '..', '..', 'tests', 'vectors');
const cli = join(here, '..', 'bin', 'undersign-audit.js');
const manifest = JSON.parse(readFileSync(join(vectors, 'manifest.json'), 'utf8'));

/** Replaces the values of informative keys by null, recursively. */
export function scrub(v) {
  if (Array.isArray(v)) return v.map(scrub);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'reason' || k === 'message' ? null : scrub(x)]));
  }
  return v;
}

/** Runs the CLI; resolves to { code, stdout, stderr }. */
export function run(args, cwd) {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

// Several CLI processes at once: each is mostly start-up and single-threaded verification.
const CONCURRENCY = 2;

test('conformance vectors', async (t) => {
  let next = 0;
  const results = new Array(manifest.length);
  const worker = async () => {
    while (next < manifest.length) {
      const i = next++;
      const e = manifest[i];
      results[i] = await run(['audit', '--json', e.bundle, ...e.args], vectors);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  for (let i = 0; i < manifest.length; i++) {
    const e = manifest[i];
    const r = results[i];
    await t.test(e.name, () => {
      assert.equal(r.code, e.exit, `exit status; stderr: ${r.stderr}`);
      if (e.expected === null) {
        assert.equal(r.stdout, '');
      } else {
        const want = JSON.parse(readFileSync(join(vectors, e.expected), 'utf8'));
        assert.deepEqual(scrub(JSON.parse(r.stdout)), scrub(want));
      }
    });
  }
});

// The same vectors through the library with the proof-checking paths the small vectors do not
// reach from the CLI: two worker processes, and chunks of 3 lines (so duplicates, order and
// invalid proofs cross chunk boundaries).
test('conformance vectors, worker processes and small chunks', async (t) => {
  const { audit } = await import('../src/audit.js');
  const { ProofPool } = await import('../src/pool.js');
  const { releaseCurve } = await import('../src/curve.js');
  const pool = new ProofPool(2);
  try {
    for (const e of manifest) {
      if (e.exit === 2) continue;
      const key = e.args[e.args.indexOf('--registrar-key') + 1].toLowerCase();
      const h = e.args.indexOf('--vk-hash');
      const pinned = h >= 0 ? e.args[h + 1].toLowerCase() : null;
      const bytes = new Uint8Array(readFileSync(join(vectors, e.bundle)));
      const report = await audit(bytes, key, pinned, {
        chunk: 3,
        proofChecker: (vkJson) => ({ check: (tasks) => pool.check(vkJson, tasks), close: async () => {} }),
      });
      await t.test(e.name, () => {
        const want = JSON.parse(readFileSync(join(vectors, e.expected), 'utf8'));
        assert.equal(report.valid ? 0 : 1, e.exit);
        // Through JSON, as the CLI prints it (integers may be BigInt here).
        assert.deepEqual(scrub(JSON.parse(JSON.stringify(report, (k, v) => (typeof v === 'bigint' ? Number(v) : v)))), scrub(want));
      });
    }
  } finally {
    await pool.close();
    await releaseCurve();
  }
});
