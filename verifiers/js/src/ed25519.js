// Ed25519 for registrar keys and checkpoint signatures (SPEC.md §12): RFC 8032 with
// `verify_strict` semantics — canonical encodings only, small-order keys and R refused, s < L,
// and the cofactorless equation [s]B = R + [k]A.

import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';

const Point = ed25519.Point;
const L = Point.Fn.ORDER;

function le(bytes) {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return v;
}

/** Decodes a point strictly: canonical encoding (y < p, no "-0"), not of small order. */
function decodeStrict(bytes) {
  let p;
  try {
    p = Point.fromBytes(bytes, false);
  } catch {
    return null;
  }
  if (p.isSmallOrder()) return null;
  return p;
}

/** Whether 32 bytes are a valid registrar public key (§12). */
export function isValidPublicKey(bytes) {
  return bytes.length === 32 && decodeStrict(bytes) !== null;
}

/** The public key of a 32-byte RFC 8032 seed. */
export function publicKeyOf(seed) {
  return ed25519.getPublicKey(seed);
}

/** Strict verification of a 64-byte signature on `msg` under the 32-byte key `pub`. */
export function verifyStrict(sig, msg, pub) {
  if (sig.length !== 64 || pub.length !== 32) return false;
  const A = decodeStrict(pub);
  if (A === null) return false;
  const Rb = sig.subarray(0, 32);
  const Rp = decodeStrict(Rb);
  if (Rp === null) return false;
  const s = le(sig.subarray(32, 64));
  if (s >= L) return false;
  const h = new Uint8Array(64 + msg.length);
  h.set(Rb, 0);
  h.set(pub, 32);
  h.set(msg, 64);
  const k = le(sha512(h)) % L;
  // [s]B − [k]A must be R exactly (no cofactor multiplication).
  const sB = s === 0n ? Point.ZERO : Point.BASE.multiply(s);
  const kA = k === 0n ? Point.ZERO : A.multiplyUnsafe(k);
  return sB.subtract(kA).equals(Rp);
}
