// "Verify this tally in your browser": the script of a static site's verify.html and of a
// collector's verify page (SPEC.md §16).
//
// It fetches the published bundle and audit report (relative URLs named by the page), runs the
// JavaScript auditor (verifiers/js, built as undersign-audit-worker.js) in a Web Worker with
// the registrar key and pinned verifying key hash the page names, shows its progress, and puts
// its count and breakdown beside the published ones. On a collector (/petitions/{id}/verify)
// the published numbers are /v1/petitions/{id}/tally, which changes at each publication: they
// are fetched before the bundle (so the bundle is never older), and when the two disagree and
// the numbers have changed since, a publication came in between and it all runs once more.
// Every text it writes goes through textContent (never markup); its words come from the page's
// data-* attributes, which the page writer escaped.

const app = document.getElementById('browser-verify');
const button = document.getElementById('verify-start');
const bar = document.getElementById('verify-progress');
const status = document.getElementById('verify-status');
const words = app.dataset;

/** The numbers that must agree: the count and the breakdown, in a canonical form. */
function numbers(report) {
  return JSON.stringify({
    count: report.count,
    breakdown: (report.breakdown || []).map((slot) => ({
      slot: slot.slot,
      name: slot.name,
      rows: (slot.rows || []).map((row) => ({ code: row.code ?? null, label: row.label, count: row.count })),
    })),
  });
}

async function fetchOk(url) {
  const response = await fetch(url, { cache: 'no-store', credentials: 'omit' });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
}

function agrees(report, published) {
  return report.valid === true && numbers(report) === numbers(published);
}

/** Fetches the published numbers, then the bundle, and runs the auditor on the bundle. */
async function audit() {
  Object.assign(bar, { value: 0, max: 1 });
  const published = await fetchOk(words.report).then((r) => r.json());
  const bundle = await fetchOk(words.bundle).then((r) => r.arrayBuffer());
  const worker = new Worker(words.worker, { type: 'module' });
  const result = await new Promise((resolve) => {
    worker.onmessage = (event) => {
      if (event.data.progress) {
        const [done, total] = event.data.progress;
        Object.assign(bar, { value: done, max: total || 1 });
        status.textContent = `${words.running} ${done} / ${total}`;
      } else resolve(event.data);
    };
    worker.onerror = (event) => resolve({ error: event.message || 'the worker failed to start' });
    worker.postMessage({
      bundle: new Uint8Array(bundle),
      registrarKey: words.registrarKey,
      vkHash: words.vkHash || null,
    });
  });
  worker.terminate();
  if (result.error) throw new Error(result.error);
  return { report: result.report, published };
}

function show(report, published) {
  document.getElementById('browser-count').textContent = String(report.count);
  const table = document.getElementById('verify-table');
  const body = table.tBodies[0];
  for (const cell of body.querySelectorAll('td.browser')) cell.textContent = '—';
  for (const slot of report.breakdown || []) {
    for (const row of slot.rows || []) {
      const code = row.code == null ? 'none' : String(row.code);
      let tr = body.querySelector(`tr[data-slot="${Number(slot.slot)}"][data-code="${code}"]`);
      if (!tr) {
        tr = body.insertRow();
        tr.dataset.slot = String(slot.slot);
        tr.dataset.code = code;
        const th = document.createElement('th');
        th.scope = 'row';
        th.textContent = `${slot.name}: ${row.label}`;
        tr.append(th);
        const pub = tr.insertCell();
        pub.className = 'n published';
        pub.textContent = '—';
        tr.insertCell().className = 'n browser';
      }
      tr.querySelector('td.browser').textContent = String(row.count);
    }
  }
  const agree = agrees(report, published);
  const verdict = document.getElementById('verify-verdict');
  verdict.textContent = agree ? words.agree : words.disagree;
  verdict.className = agree ? 'agree' : 'warn';
  app.dataset.result = agree ? 'agree' : 'disagree';
}

async function run() {
  button.disabled = true;
  app.dataset.result = 'running';
  status.textContent = words.running;
  Object.assign(bar, { value: 0, max: 1 });
  try {
    let { report, published } = await audit();
    if (!agrees(report, published)) {
      // Fetched across a publication? Then the numbers have changed since: once more.
      const now = await fetchOk(words.report).then((r) => r.json());
      if (numbers(now) !== numbers(published)) ({ report, published } = await audit());
    }
    Object.assign(bar, { value: 1, max: 1 });
    status.textContent = words.done;
    show(report, published);
  } catch (e) {
    status.textContent = `${words.failed} ${e && e.message ? e.message : e}`;
    app.dataset.result = 'error';
  }
  button.disabled = false;
}

button.addEventListener('click', run);
run();
