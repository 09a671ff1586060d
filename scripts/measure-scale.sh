#!/usr/bin/env bash
# Whole-process measurements for the scale targets (issue 4). Not a test: it takes minutes.
#   bash scripts/measure-scale.sh [WORKDIR]
# Needs: cargo, python3, GNU time (/usr/bin/time, Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/measure}
mkdir -p "$work"
cargo build --release --quiet
bin=$PWD/target/release/undersign
# The VM's speed drifts with its host: print it first, to compare runs by.
cargo run --release --quiet --example host_speed
timed() { /usr/bin/time -f "  elapsed %e s, peak RSS %M KiB" "$@"; }

echo "== 1. audit of a 100,000-signature bundle (simulated proofs, 16 real)"
"$bin" bench-data --signatures 100000 --real 16 --force --out "$work/bd100k" > "$work/bd100k.txt"
cat "$work/bd100k.txt"
audit_cmd=$(grep '^audit it: ' "$work/bd100k.txt" | sed 's/^audit it: undersign //')
# shellcheck disable=SC2086
timed "$bin" $audit_cmd > "$work/audit100k.out" || true
tail -n 3 "$work/audit100k.out"

echo "== 1b. bundle build from the same 100,000 signatures, one file each"
rm -rf "$work/sigs"; mkdir -p "$work/sigs"
python3 - "$work/bd100k/bundle.jsonl" "$work/sigs" <<'PY'
import os, sys
with open(sys.argv[1]) as f:
    next(f)  # the header line
    for i, line in enumerate(f):
        with open(os.path.join(sys.argv[2], str(i)), "w") as out:
            out.write(line)
PY
(cd "$work" && timed "$bin" bundle build --petition bd100k/petition.json --registry bd100k/registry.json \
    --keys bd100k/keys --out rebuilt.jsonl sigs/* > build100k.out) || true
tail -n 2 "$work/build100k.out"

echo "== 2. undersign sign as a whole process, depth 20"
d=$work/sign
rm -rf "$d"; mkdir -p "$d"
"$bin" setup --depth 20 --out "$d/keys" --seed "$(printf '%064d' 7)" > /dev/null 2>&1
pub=$("$bin" registrar keygen --out "$d/registrar.key" | sed -n 's/^public key (publish this): //p')
cat > "$d/schema.json" <<'JSON'
{"version":1,"kind":"undersign-schema","slots":[{"name":"status","labels":{"current":1,"former":2}}]}
JSON
"$bin" registry init --schema "$d/schema.json" --depth 20 --out "$d/registry.json" > /dev/null
"$bin" identity new --out "$d/me.id" > /dev/null
me=$("$bin" identity show "$d/me.id")
python3 - "$d/members.csv" "$me" <<'PY'
import random, sys
random.seed(1)
with open(sys.argv[1], "w") as f:
    f.write("commitment,status\n")
    f.write(f"{sys.argv[2]},current\n")
    for _ in range(999):
        f.write("0x00%062x,current\n" % random.getrandbits(248))
PY
"$bin" registry add "$d/registry.json" --csv "$d/members.csv" > /dev/null
"$bin" registry checkpoint "$d/registry.json" --key "$d/registrar.key" > /dev/null
echo "Measure." > "$d/letter.txt"
"$bin" petition new --registry "$d/registry.json" --title Measure --text-file "$d/letter.txt" \
    --disclose status --keys "$d/keys" --out "$d/petition.json" > /dev/null
for i in 1 2 3; do
  timed "$bin" sign --identity "$d/me.id" --registry "$d/registry.json" --petition "$d/petition.json" \
      --keys "$d/keys" --out "$d/sig$i.json" > /dev/null
done
echo "  (registrar key $pub)"

echo "== 3. a 1,000,000-member registry: import, then load + root + checkpoint"
r=$work/million
rm -rf "$r"; mkdir -p "$r"
python3 - "$r/members.csv" "$me" <<'PY'
import random, sys
random.seed(2)
with open(sys.argv[1], "w") as f:
    f.write("commitment,status\n")
    f.write(f"{sys.argv[2]},current\n")
    for i in range(1, 1_000_000):
        f.write("0x00%062x,%s\n" % (random.getrandbits(248), "current" if i % 4 else "former"))
PY
"$bin" registrar keygen --out "$r/registrar.key" > /dev/null
"$bin" registry init --schema "$d/schema.json" --depth 20 --out "$r/registry.json" > /dev/null
echo "  import:"
timed "$bin" registry add "$r/registry.json" --csv "$r/members.csv" > /dev/null
echo "  checkpoint (load 1M members, hash every leaf, build the tree, sign, save):"
timed "$bin" registry checkpoint "$r/registry.json" --key "$r/registrar.key"
echo "  stats (load only):"
timed "$bin" registry stats "$r/registry.json" > /dev/null

echo "== 4. undersign sign against the 1,000,000-member registry (rebuilds its tree), depth 20"
"$bin" petition new --registry "$r/registry.json" --title Measure --text-file "$d/letter.txt" \
    --disclose status --keys "$d/keys" --out "$r/petition.json" > /dev/null
timed "$bin" sign --identity "$d/me.id" --registry "$r/registry.json" --petition "$r/petition.json" \
    --keys "$d/keys" --out "$r/sig.json" > /dev/null
