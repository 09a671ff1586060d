// BN254 points in arkworks' compressed form (SPEC.md §2), the verifying key bytes (§2, §9) and
// Groth16 verification with snarkjs (§9 "Verification").

import { bn254 } from '@noble/curves/bn254.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { buildBn128 } from 'ffjavascript';
import { groth16 } from 'snarkjs';

export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
export const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const HALF_Q = (Q - 1n) / 2n;

const { Fp, Fp2 } = bn254.fields;
const G1 = bn254.G1.Point;
const G2 = bn254.G2.Point;
const B1 = 3n;
const B2 = G2.CURVE().b;

export class PointError extends Error {}

/** Little-endian bytes to a bigint. */
function le(bytes) {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  return v;
}

/**
 * Splits an encoding into its x bytes (flags cleared) and its flags; refuses a malformed
 * infinity (bit 6 with any other bit or byte set). Returns null for the point at infinity.
 */
function flags(bytes) {
  const last = bytes[bytes.length - 1];
  const larger = (last & 0x80) !== 0;
  const inf = (last & 0x40) !== 0;
  const x = Uint8Array.from(bytes);
  x[x.length - 1] &= 0x3f;
  if (inf) {
    if (larger || x.some((b) => b !== 0)) throw new PointError('point at infinity with other bits set');
    return null;
  }
  return { x, larger };
}

/** Decodes a G1 point (32 bytes); checks x < q, on the curve (G1 has cofactor 1). */
export function decodeG1(bytes) {
  const f = flags(bytes);
  if (f === null) return G1.ZERO;
  const x = le(f.x);
  if (x >= Q) throw new PointError('coordinate not below q');
  const rhs = Fp.add(Fp.mul(Fp.sqr(x), x), B1);
  let y;
  try {
    y = Fp.sqrt(rhs);
  } catch {
    throw new PointError('G1 point not on the curve');
  }
  if (Fp.sqr(y) !== rhs) throw new PointError('G1 point not on the curve');
  const neg = Fp.neg(y);
  // "larger" root: y > (q - 1) / 2.
  const big = y > HALF_Q ? y : neg;
  const small = y > HALF_Q ? neg : y;
  const p = G1.fromAffine({ x, y: f.larger ? big : small });
  try {
    p.assertValidity();
  } catch {
    throw new PointError('G1 point not valid');
  }
  return p;
}

/** arkworks' order on Fq2: c1 first, then c0. */
function fp2Greater(a, b) {
  if (a.c1 !== b.c1) return a.c1 > b.c1;
  return a.c0 > b.c0;
}

/** Decodes a G2 point (64 bytes: x.c0, x.c1); checks coordinates, curve and subgroup. */
export function decodeG2(bytes) {
  const f = flags(bytes);
  if (f === null) return G2.ZERO;
  const c0 = le(f.x.subarray(0, 32));
  const c1 = le(f.x.subarray(32, 64));
  if (c0 >= Q || c1 >= Q) throw new PointError('coordinate not below q');
  const x = { c0, c1 };
  const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), B2);
  let y;
  try {
    y = Fp2.sqrt(rhs);
  } catch {
    throw new PointError('G2 point not on the curve');
  }
  if (!Fp2.eql(Fp2.sqr(y), rhs)) throw new PointError('G2 point not on the curve');
  const neg = Fp2.neg(y);
  const yIsLarger = fp2Greater(y, neg);
  const big = yIsLarger ? y : neg;
  const small = yIsLarger ? neg : y;
  const p = G2.fromAffine({ x, y: f.larger ? big : small });
  try {
    p.assertValidity(); // on the curve and in the prime-order subgroup
  } catch {
    throw new PointError('G2 point not in the subgroup');
  }
  return p;
}

/** Decodes the 128 proof bytes `A ‖ B ‖ C`. */
export function decodeProof(bytes) {
  if (bytes.length !== 128) throw new PointError('proof is not 128 bytes');
  return {
    a: decodeG1(bytes.subarray(0, 32)),
    b: decodeG2(bytes.subarray(32, 96)),
    c: decodeG1(bytes.subarray(96, 128)),
  };
}

export class VerifyingKeyError extends Error {}

/**
 * Decodes the verifying key bytes (§2) and applies the refusals of §9. Throws
 * `VerifyingKeyError` (or `PointError`) for a key that does not decode or is refused.
 */
export function decodeVerifyingKey(bytes) {
  const fixed = 32 + 64 * 3 + 8;
  if (bytes.length < fixed) throw new VerifyingKeyError('verifying key too short');
  const alpha = decodeG1(bytes.subarray(0, 32));
  const beta = decodeG2(bytes.subarray(32, 96));
  const gamma = decodeG2(bytes.subarray(96, 160));
  const delta = decodeG2(bytes.subarray(160, 224));
  const len = le(bytes.subarray(224, 232));
  if (len !== 7n) throw new VerifyingKeyError('verifying key must have 7 input points');
  if (bytes.length !== fixed + 32 * 7) throw new VerifyingKeyError('verifying key has the wrong length');
  const ic = [];
  for (let j = 0; j < 7; j++) ic.push(decodeG1(bytes.subarray(fixed + 32 * j, fixed + 32 * (j + 1))));
  if ([alpha, beta, gamma, delta, ...ic].some((p) => p.is0())) {
    throw new VerifyingKeyError('the verifying key has a point at infinity');
  }
  if (delta.equals(gamma) || delta.equals(gamma.negate())) {
    throw new VerifyingKeyError('delta equals plus or minus gamma');
  }
  return { alpha, beta, gamma, delta, ic };
}

/** snarkjs's JSON form of a G1 point: projective, z = 1 (infinity is [0, 1, 0]). */
export function g1Json(p) {
  if (p.is0()) return ['0', '1', '0'];
  const { x, y } = p.toAffine();
  return [x.toString(), y.toString(), '1'];
}

/** snarkjs's JSON form of a G2 point: [[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]. */
export function g2Json(p) {
  if (p.is0()) return [['0', '0'], ['1', '0'], ['0', '0']];
  const { x, y } = p.toAffine();
  return [
    [x.c0.toString(), x.c1.toString()],
    [y.c0.toString(), y.c1.toString()],
    ['1', '0'],
  ];
}

/** snarkjs's verification_key.json (without vk_alphabeta_12, which its verifier does not use). */
export function snarkjsVerificationKey(vk) {
  return {
    protocol: 'groth16',
    curve: 'bn128',
    nPublic: 6,
    vk_alpha_1: g1Json(vk.alpha),
    vk_beta_2: g2Json(vk.beta),
    vk_gamma_2: g2Json(vk.gamma),
    vk_delta_2: g2Json(vk.delta),
    IC: vk.ic.map(g1Json),
  };
}

/** snarkjs's proof.json for a decoded proof. */
export function snarkjsProof(p) {
  return { pi_a: g1Json(p.a), pi_b: g2Json(p.b), pi_c: g1Json(p.c), protocol: 'groth16', curve: 'bn128' };
}

/**
 * Verifies one Groth16 proof with snarkjs. `inputs` are the six public inputs (decimal strings
 * or bigints, §8 order).
 */
export async function verifyProof(vkJson, proof, inputs) {
  await useSingleThreadCurve();
  return groth16.verify(vkJson, inputs.map((x) => x.toString()), snarkjsProof(proof));
}

/**
 * snarkjs looks its curve up in `globalThis.curve_bn128`; one built single-threaded verifies a
 * proof faster than the default (which sends each small multi-exponentiation to worker threads),
 * and parallelism comes from verifying several proofs at once instead (`src/pool.js`).
 */
async function useSingleThreadCurve() {
  if (!globalThis.curve_bn128) globalThis.curve_bn128 = await buildBn128(true);
}

/**
 * Checks proofs: for each task `{ proof: 256 hex digits, inputs: six decimal strings or null }`,
 * `{ malformed: reason }` when a point does not decode (§2), else `{ valid: boolean }` (null when
 * `inputs` is null: decoded, not verified).
 */
export async function checkProofs(vkJson, tasks) {
  const out = [];
  for (const t of tasks) {
    let proof;
    try {
      proof = decodeProof(hexToBytes(t.proof));
    } catch (e) {
      if (!(e instanceof PointError)) throw e;
      out.push({ malformed: e.message });
      continue;
    }
    out.push({ valid: t.inputs === null ? null : await verifyProof(vkJson, proof, t.inputs) });
  }
  return out;
}

/** Releases snarkjs's curve, so the process can exit. */
export async function releaseCurve() {
  if (globalThis.curve_bn128) {
    await globalThis.curve_bn128.terminate();
    globalThis.curve_bn128 = null;
  }
}
