// A child process of `src/pool.js`: decodes and verifies the proofs it is sent (`checkProofs`).
// (A child process rather than a worker thread: snarkjs's dependency `web-worker` takes over any
// worker thread that loads it.)

import { checkProofs, releaseCurve } from './curve.js';

let vkJson = null;
process.on('message', async (m) => {
  if (m.vkJson) {
    vkJson = m.vkJson;
    return;
  }
  try {
    process.send({ id: m.id, results: await checkProofs(vkJson, m.tasks) });
  } catch (e) {
    process.send({ id: m.id, error: String(e && e.stack ? e.stack : e) });
  }
});
process.on('disconnect', () => {
  releaseCurve().finally(() => process.exit(0));
});
