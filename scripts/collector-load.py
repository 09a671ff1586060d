#!/usr/bin/env python3
"""Load test for the collector (`undersign serve`): accepted signatures per second and latency.

Starts a release `undersign serve` on loopback with a fresh data directory, uploads the
registry and opens the petition of a bench-data directory (`undersign bench-data`, generated
here if missing), then submits N valid signatures from CLIENTS concurrent clients (one
keep-alive connection each) and prints accepted/s, p50 and p99 latency.

With --flood K, K more clients submit invalid proofs (a valid signature's fields with another
signature's proof: it decodes, but does not verify) for as long as the honest clients run; it
prints the honest clients' figures and the rate of invalid proofs answered 422.

Python standard library only. The client runs on the same host as the server and takes CPU
from it; the script prints its own CPU time so that this can be accounted for.

  cargo build --release
  python3 scripts/collector-load.py --signatures 20000 --clients 64
  python3 scripts/collector-load.py --signatures 20000 --clients 64 --flood 64
"""

import argparse
import http.client
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def percentile(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
    return ordered[index]


def start_server(binary, data, keys):
    proc = subprocess.Popen(
        [binary, "serve", "--data", data, "--keys", keys, "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=sys.stderr,
        text=True,
    )
    for line in proc.stdout:
        found = re.match(r"undersign collector listening on http://(\S+)", line)
        if found:
            host, port = found.group(1).rsplit(":", 1)
            # Keep reading stdout so the server never blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, host, int(port)
    proc.kill()
    sys.exit("the server did not start")


def request(host, port, method, path, body, token=None):
    conn = http.client.HTTPConnection(host, port, timeout=120)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    text = response.read()
    conn.close()
    return response.status, text


class Client(threading.Thread):
    """Submits bodies taken from a shared list until it is exhausted (or `stop` is set)."""

    def __init__(self, host, port, path, source, results, stop=None):
        super().__init__(daemon=True)
        self.host, self.port, self.path = host, port, path
        self.source, self.results, self.stop = source, results, stop

    def run(self):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        headers = {"Content-Type": "application/json"}
        while self.stop is None or not self.stop.is_set():
            body = self.source()
            if body is None:
                break
            started = time.perf_counter()
            try:
                conn.request("POST", self.path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                status = 0
            self.results.append((status, time.perf_counter() - started))
        conn.close()


def taker(items, cycle=False):
    lock = threading.Lock()
    state = {"next": 0}

    def take():
        with lock:
            i = state["next"]
            state["next"] += 1
        if cycle:
            return items[i % len(items)]
        return items[i] if i < len(items) else None

    return take


def invalid_bodies(lines):
    """Each signature with the next one's proof: well-formed, decodes, fails verification."""
    parsed = [json.loads(line) for line in lines]
    out = []
    for i, signature in enumerate(parsed):
        bad = dict(signature)
        bad["proof"] = parsed[(i + 1) % len(parsed)]["proof"]
        out.append(json.dumps(bad).encode())
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default=os.path.join(ROOT, "target/release/undersign"))
    parser.add_argument("--bench-data", default=os.path.join(tempfile.gettempdir(), "undersign-load-data"))
    parser.add_argument("--signatures", type=int, default=20000, help="valid signatures to submit")
    parser.add_argument("--clients", type=int, default=64, help="concurrent honest clients")
    parser.add_argument("--flood", type=int, default=0, help="concurrent clients submitting invalid proofs")
    args = parser.parse_args()

    data = args.bench_data
    flood_pool = 2000 if args.flood else 0
    needed = args.signatures + flood_pool
    bundle = os.path.join(data, "bundle.jsonl")
    if not os.path.exists(bundle) or sum(1 for _ in open(bundle)) - 1 < needed:
        print(f"generating {needed} bench signatures in {data} ...", flush=True)
        subprocess.run(
            [args.binary, "bench-data", "--signatures", str(needed), "--force", "--out", data],
            check=True, stdout=subprocess.DEVNULL,
        )
    with open(bundle, "rb") as f:
        lines = f.read().splitlines()[1:]
    valid = lines[: args.signatures]
    invalid = invalid_bodies(lines[args.signatures : args.signatures + flood_pool]) if args.flood else []

    with tempfile.TemporaryDirectory(prefix="undersign-load-") as tmp:
        proc, host, port = start_server(args.binary, os.path.join(tmp, "collector"), os.path.join(data, "keys"))
        try:
            with open(os.path.join(tmp, "collector", "token")) as f:
                token = f.read().strip()
            with open(os.path.join(data, "registry.json"), "rb") as f:
                registry = f.read()
            registry_id = json.loads(registry)["id"]
            status, text = request(host, port, "PUT", f"/v1/registries/{registry_id}", registry, token)
            assert status in (200, 201), (status, text)
            with open(os.path.join(data, "petition.json"), "rb") as f:
                petition = f.read()
            status, text = request(host, port, "POST", "/v1/petitions", petition, token)
            assert status in (200, 201), (status, text)
            path = f"/v1/petitions/{json.loads(text)['id']}/signatures"

            honest, flooded = [], []
            stop = threading.Event()
            take_invalid, take_valid = taker(invalid, cycle=True), taker(valid)
            flooders = [Client(host, port, path, take_invalid, flooded, stop) for _ in range(args.flood)]
            clients = [Client(host, port, path, take_valid, honest) for _ in range(args.clients)]
            cpu_before = resource.getrusage(resource.RUSAGE_SELF)
            server_cpu_before = cpu_of(proc.pid)
            started = time.perf_counter()
            for c in flooders + clients:
                c.start()
            for c in clients:
                c.join()
            elapsed = time.perf_counter() - started
            stop.set()
            for c in flooders:
                c.join()
            cpu_after = resource.getrusage(resource.RUSAGE_SELF)
            server_cpu = cpu_of(proc.pid) - server_cpu_before
        finally:
            proc.terminate()
            proc.wait(timeout=60)

    statuses = {}
    for status, _ in honest:
        statuses[status] = statuses.get(status, 0) + 1
    latencies = [t for s, t in honest if s == 201]
    client_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    print(f"cores: {os.cpu_count()}; honest clients: {args.clients}; flood clients: {args.flood}")
    print(f"honest: {len(latencies)} accepted of {len(honest)} in {elapsed:.2f} s = {len(latencies) / elapsed:.0f} accepted/s; statuses {statuses}")
    print(f"honest latency: p50 {percentile(latencies, 50) * 1000:.1f} ms, p99 {percentile(latencies, 99) * 1000:.1f} ms, mean {statistics.fmean(latencies) * 1000 if latencies else float('nan'):.1f} ms")
    if args.flood:
        rejected = sum(1 for s, _ in flooded if s == 422)
        other = {}
        for s, _ in flooded:
            if s != 422:
                other[s] = other.get(s, 0) + 1
        print(f"flood: {rejected} invalid proofs answered 422 = {rejected / elapsed:.0f}/s; other statuses {other}")
    print(f"CPU over the run: server {server_cpu:.1f} s, this client {client_cpu:.1f} s, wall {elapsed:.1f} s")
    if statuses.get(201, 0) != len(honest):
        sys.exit(1)


def cpu_of(pid):
    """User+system CPU seconds of process `pid` (Linux /proc; 0 elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


if __name__ == "__main__":
    main()
