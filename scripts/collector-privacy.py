#!/usr/bin/env python3
"""What a seized collector disk says about arrival order (issue 22 §1). Not a test: it takes
minutes. Python 3 standard library only.

    python3 scripts/collector-privacy.py [--signatures 10000] [--work DIR] [--bin PATH]

It makes N signatures with `undersign bench-data` (simulated proofs), starts a release
`undersign serve`, submits them one at a time in a seeded shuffled order (so arrival order is
known), then, like `tests/server.rs`:

1. copies every file of the data directory while the server runs, and again after `kill -9`,
   and counts nullifiers (32 raw bytes or 64 hex digits) found outside the main database file;
2. measures how the byte order of the nullifiers in the main database file (their occurrence in
   a B-tree page) agrees with arrival order: the fraction of concordant pairs among all
   pairs and among pairs on the same page (0.5 = no information);
3. restarts the server, publishes (POST /v1/petitions/{id}/publish: flags, bundle file,
   VACUUM), and measures again; it also times VACUUM alone on a copy of the unpublished
   database (Python's SQLite, same pragmas).
"""

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request

DB = "collector.sqlite3"


def request(method, url, body=None, token=None):
    req = urllib.request.Request(url, data=body, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=600) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def start(binary, data, keys=None):
    cmd = [binary, "serve", "--data", data, "--listen", "127.0.0.1:0"]
    if keys:
        cmd += ["--keys", keys]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        prefix = "undersign collector listening on "
        if line.startswith(prefix):
            return proc, line[len(prefix):].strip()
    raise SystemExit("the server did not start")


def copy_dir(data):
    files = {}
    for root, _, names in os.walk(data):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, data)] = f.read()
    return files


def outside_main(files, nullifiers):
    """Nullifiers found in any file but the main database and the bundle files."""
    found = set()
    for path, data in files.items():
        if path == DB or path.startswith("bundles" + os.sep):
            continue
        for i, n in enumerate(nullifiers):
            if bytes.fromhex(n) in data or n.encode() in data:
                found.add((path, i))
    return found


def agreement(db, nullifiers):
    """(all-pairs concordance, pairs, same-page concordance, same-page pairs)."""
    page_size = int.from_bytes(db[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    offsets = []
    for n in nullifiers:
        raw = bytes.fromhex(n)
        at, leaf = db.find(raw), None
        while at >= 0:
            page = at // page_size
            # Index B-tree pages: leaf (0x0a) or interior (0x02, whose cells are rows too).
            if db[page * page_size + (100 if page == 0 else 0)] in (0x0A, 0x02):
                leaf = at
                break
            at = db.find(raw, at + 1)
        if leaf is None:
            raise SystemExit(f"nullifier {n} is on no B-tree page")
        offsets.append(leaf)
    # Concordant pairs over all pairs: count inversions of the offsets in arrival order.
    n = len(offsets)
    pairs = n * (n - 1) // 2
    ranks = {o: r for r, o in enumerate(sorted(offsets))}
    tree = [0] * (n + 1)
    concordant = 0
    for o in offsets:
        r = ranks[o] + 1
        i, below = r, 0
        while i > 0:
            below += tree[i]
            i -= i & -i
        concordant += below  # earlier arrivals at lower offsets
        i = r
        while i <= n:
            tree[i] += 1
            i += i & -i
    by_page = {}
    for arrival, o in enumerate(offsets):
        by_page.setdefault(o // page_size, []).append(o)
    same = same_pairs = 0
    for rows in by_page.values():
        for a in range(len(rows)):
            for b in range(a + 1, len(rows)):
                same_pairs += 1
                same += rows[a] < rows[b]
    return concordant / pairs, pairs, same / max(same_pairs, 1), same_pairs


def report(label, files, nullifiers):
    leaked = outside_main(files, nullifiers)
    a = agreement(files[DB], nullifiers)
    wal = len(files.get(DB + "-wal", b""))
    print(f"{label}: WAL {wal} bytes, files {sorted(files)}")
    print(f"  nullifiers outside the main database: {len(leaked)}")
    print(f"  agreement with arrival: all pairs {a[0]:.4f} ({a[1]} pairs), "
          f"same-page pairs {a[2]:.4f} ({a[3]} pairs)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--signatures", type=int, default=10000)
    ap.add_argument("--work", default="target/collector-privacy")
    ap.add_argument("--bin", default=None, help="undersign binary (default: build --release)")
    ap.add_argument("--seed", type=int, default=2024)
    args = ap.parse_args()
    if args.bin:
        args.bin = os.path.abspath(args.bin)
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    binary = os.path.abspath(args.bin) if args.bin else None
    if binary is None:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "undersign"], check=True)
        binary = os.path.abspath("target/release/undersign")
    work = os.path.abspath(os.path.join(args.work, str(args.signatures)))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    bd = os.path.join(work, "bd")
    subprocess.run([binary, "bench-data", "--signatures", str(args.signatures), "--real", "2",
                    "--depth", "16", "--force", "--out", bd], check=True, stdout=subprocess.DEVNULL)
    data = os.path.join(work, "data")
    proc, base = start(binary, data, os.path.join(bd, "keys"))
    with open(os.path.join(data, "token")) as f:
        token = f.read().strip()
    with open(os.path.join(bd, "registry.json"), "rb") as f:
        registry = f.read()
    registry_id = json.loads(registry)["id"]
    status, body = request("PUT", f"{base}/v1/registries/{registry_id}", registry, token)
    assert status == 201, body
    with open(os.path.join(bd, "petition.json"), "rb") as f:
        status, body = request("POST", f"{base}/v1/petitions", f.read(), token)
    assert status == 201, body
    petition = json.loads(body)["id"]
    with open(os.path.join(bd, "bundle.jsonl"), "rb") as f:
        lines = f.read().splitlines()[1:]
    random.Random(args.seed).shuffle(lines)
    arrived = []
    started = time.monotonic()
    for line in lines:
        status, body = request("POST", f"{base}/v1/petitions/{petition}/signatures", line)
        assert status == 201, body
        arrived.append(json.loads(body)["nullifier"][2:])
    elapsed = time.monotonic() - started
    print(f"{len(arrived)} signatures submitted one at a time in {elapsed:.1f} s "
          f"({len(arrived) / elapsed:.0f}/s; each commit checkpoints the WAL)")
    report("while running, before publication", copy_dir(data), arrived)
    proc.kill()
    proc.wait()
    killed = copy_dir(data)
    report("after kill -9, before publication", killed, arrived)

    # VACUUM alone, on a copy of the unpublished database.
    copy = os.path.join(work, "vacuum-copy.sqlite3")
    with open(copy, "wb") as f:
        f.write(killed[DB])
    conn = sqlite3.connect(copy, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL", "secure_delete = ON",
                   "temp_store = MEMORY"):
        conn.execute("PRAGMA " + pragma)
    t = time.monotonic()
    conn.execute("VACUUM")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    vacuum = time.monotonic() - t
    conn.close()
    print(f"VACUUM + checkpoint alone: {vacuum * 1000:.0f} ms for {len(arrived)} signatures "
          f"({len(killed[DB]) / 1e6:.1f} MB database)")

    proc, base = start(binary, data)
    t = time.monotonic()
    status, body = request("POST", f"{base}/v1/petitions/{petition}/publish", b"", token)
    took = time.monotonic() - t
    assert status == 200, body
    print(f"publication (flags, bundle file, VACUUM): {took * 1000:.0f} ms: {body.decode()}")
    report("after publication, while running", copy_dir(data), arrived)
    proc.kill()
    proc.wait()
    report("after publication and kill -9", copy_dir(data), arrived)
    return 0


if __name__ == "__main__":
    sys.exit(main())
