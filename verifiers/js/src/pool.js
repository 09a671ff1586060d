// Proof checking on several cores: child processes, each with its own snarkjs curve, take slices
// of a chunk of tasks; results come back in task order. Node.js only (the audit itself takes any
// `checkProofs`-like function, so a browser can use Web Workers instead).

import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./proof-worker.js', import.meta.url));

/** A pool of `size` processes. */
export class ProofPool {
  constructor(size = availableParallelism()) {
    this.workers = Array.from({ length: Math.max(1, size) }, () =>
      fork(WORKER, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
    );
    this.next = 0;
    this.pending = new Map();
    this.vkJson = null;
    for (const w of this.workers) {
      w.on('message', ({ id, results, error }) => {
        const p = this.pending.get(id);
        this.pending.delete(id);
        if (error) p.reject(new Error(error));
        else p.resolve(results);
      });
      w.on('exit', (code) => {
        if (this.closing) return;
        for (const p of this.pending.values()) p.reject(new Error(`a proof worker exited (${code})`));
        this.pending.clear();
      });
    }
  }

  /** Checks `tasks` (see `checkProofs`) against `vkJson`, split evenly over the workers. */
  async check(vkJson, tasks) {
    if (vkJson !== this.vkJson) {
      // Messages to one process arrive in order: the key is set before the next tasks.
      for (const w of this.workers) w.send({ vkJson });
      this.vkJson = vkJson;
    }
    const n = this.workers.length;
    const per = Math.ceil(tasks.length / n);
    const parts = [];
    for (let i = 0; i < n && i * per < tasks.length; i++) {
      const id = this.next++;
      parts.push(
        new Promise((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          this.workers[i].send({ id, tasks: tasks.slice(i * per, (i + 1) * per) });
        }),
      );
    }
    return (await Promise.all(parts)).flat();
  }

  /** Stops the workers. */
  async close() {
    this.closing = true;
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise((resolve) => {
            if (w.exitCode !== null) return resolve();
            w.once('exit', resolve);
            w.disconnect();
          }),
      ),
    );
  }
}
