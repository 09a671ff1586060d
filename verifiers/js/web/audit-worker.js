// The auditor in a browser's Web Worker: "verify this tally in your browser".
//
// Build: `npm run build:web` bundles this file and its libraries into
// `dist/undersign-audit-worker.js` (one ES module, no other host contacted).
//
// Protocol: post `{ bundle: Uint8Array, registrarKey: "<64 hex>", vkHash: "<64 hex>" | null }`;
// the worker posts `{ progress: [done, total] }` as lines are checked, then `{ report }` (the
// report of SPEC.md §15.4, as `undersign audit --json` prints it) or `{ error }`.

import { audit, fromHex } from '../src/audit.js';
import { isValidPublicKey } from '../src/ed25519.js';

const HEX64 = /^[0-9a-fA-F]{64}$/;

self.onmessage = async (event) => {
  try {
    const { bundle, registrarKey, vkHash } = event.data;
    if (!HEX64.test(registrarKey ?? '') || !isValidPublicKey(fromHex(registrarKey.toLowerCase()))) {
      throw new Error('the registrar key is not a valid registrar public key');
    }
    if (vkHash != null && !HEX64.test(vkHash)) throw new Error('the verifying key hash is not 64 hex digits');
    if (!(bundle instanceof Uint8Array) || bundle.length === 0) throw new Error('the bundle is empty');
    const report = await audit(bundle, registrarKey.toLowerCase(), vkHash == null ? null : vkHash.toLowerCase(), {
      chunk: 64,
      onProgress: (done, total) => self.postMessage({ progress: [done, total] }),
    });
    // Integers as JSON numbers (the report's are small: counts, checkpoint sequences).
    self.postMessage({ report: JSON.parse(JSON.stringify(report, (_, v) => (typeof v === 'bigint' ? Number(v) : v))) });
  } catch (e) {
    self.postMessage({ error: String(e && e.message ? e.message : e) });
  }
};
