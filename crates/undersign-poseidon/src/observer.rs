//! The partial rounds of width 3 in observer form: the same rounds as [`Optimized`]'s
//! sparse ones, computed with one reduction fewer each.
//!
//! # Derivation
//!
//! In the sparse form ([`Optimized`]) partial round `p` (`p = 0 … P-1`, `P = 57`) keeps
//! `x_p = (s[1], s[2])` and does, with the row `r_p` and column `c_p` of its factor and its
//! constant `k_p`:
//!
//! ```text
//! u = (s[0] + k_p)⁵;   s[0] ← u + r_p·x_p;   x_{p+1} = x_p + c_p·u
//! ```
//!
//! Four products, one sum of two (reduced once) and two single ones: three reductions.
//! Only `r_p·x_p` ever leaves `x`, so the rounds may carry any two coordinates from which
//! those dot products follow. For these parameters any two consecutive rows are linearly
//! independent, so each next row is a combination of the two before it,
//! `r_{p+1} = e_p·r_p + a_{p-1}·r_{p-1}`. Carry
//!
//! ```text
//! q_p = r_p·x_p,   t_p = r_{p+1}·x_p − e_p·q_p  (= a_{p-1}·r_{p-1}·x_p for p ≥ 1)
//! ```
//!
//! Then, with `h_p = r_{p+1}·c_p` and `g_p = a_p·(r_p·c_p)`:
//!
//! ```text
//! q_{p+1} = r_{p+1}·x_{p+1} = r_{p+1}·x_p + h_p·u = t_p + e_p·q_p + h_p·u
//! t_{p+1} = (r_{p+2} − e_{p+1}·r_{p+1})·x_{p+1} = a_p·r_p·x_{p+1} = a_p·q_p + g_p·u
//! ```
//!
//! A round is `u = (s[0] + k_p)⁵; s[0] ← u + q; q ← t + (e_p·q + h_p·u); t ← a_p·q + g_p·u`:
//! the same four products in two sums, each reduced once.
//!
//! # Ends
//!
//! * **Entry.** `e_0 = 0`, so `q_0 = r_0·x_0` and `t_0 = r_1·x_0`. Both are linear in the
//!   output of the linear layer before the partial rounds, so that layer's rows 1 and 2 are
//!   replaced by `r_0` and `r_1` applied to them ([`ObserverRounds::entry`]): no extra cost.
//! * **Exit.** Two virtual rows continue the sequence, `r_P = r_{P-2}` and
//!   `r_{P+1} = r_{P-1}` (so `e_{P-1} = 0`, `a_{P-2} = 1`, `a_{P-1} = 1`, `e_P = 0`). After
//!   the last round `(q, t) = (r_{P-2}·x_P, r_{P-1}·x_P)`, and `x_P` is that pair times the
//!   inverse of the matrix with rows `r_{P-2}`, `r_{P-1}` ([`ObserverRounds::exit`]): two sums
//!   of two products per hash. The full rounds that follow need `x_P` itself, since their
//!   S-boxes touch every element.
//!
//! Every coefficient is computed once from the fixed tables. The construction needs each
//! pair of consecutive rows (and `r_{P-2}`, `r_{P-1}`) to be independent; for circomlib's
//! width-3 parameters they are, and the tests check the result against the sparse rounds
//! and against circomlib's vectors.

use ark_bn254::Fr;
use ark_ff::{AdditiveGroup, Field};

use super::{Matrix, Optimized};

/// One partial round in observer form (see the module documentation).
pub(super) struct ObserverRound {
    /// `k_p`, added to `s[0]` before the S-box (the sparse form's constant).
    pub(super) constant: Fr,
    /// `[e_p, h_p]`: the weights of `q` and `u` in the new `q` (which also adds `t`).
    pub(super) q_weights: [Fr; 2],
    /// `[a_p, g_p]`: the weights of `q` and `u` in the new `t`.
    pub(super) t_weights: [Fr; 2],
}

/// Width 3's partial rounds in observer form, with the linear layers that enter and leave
/// them (see the module documentation).
pub(super) struct ObserverRounds {
    /// Replaces [`Optimized::pre_partial`]: rows 1 and 2 give `q_0` and `t_0`.
    pub(super) entry: Matrix<3>,
    /// The partial rounds.
    pub(super) rounds: Vec<ObserverRound>,
    /// Maps the final `(q, t)` back to `(s[1], s[2])`.
    pub(super) exit: [[Fr; 2]; 2],
}

/// `x × y`, the 2×2 determinant with rows `x` and `y`.
fn cross(x: [Fr; 2], y: [Fr; 2]) -> Fr {
    x[0] * y[1] - x[1] * y[0]
}

fn dot(x: [Fr; 2], y: [Fr; 2]) -> Fr {
    x[0] * y[0] + x[1] * y[1]
}

/// `1 / (x × y)`. The tables are fixed, and the tests build them, so a zero here (rows
/// that are not independent) cannot reach a user.
fn inverse_cross(x: [Fr; 2], y: [Fr; 2]) -> Fr {
    cross(x, y)
        .inverse()
        .expect("consecutive partial-round rows of width 3 are independent")
}

impl ObserverRounds {
    /// The observer form of `opt`'s partial rounds.
    pub(super) fn new(opt: &Optimized<3>) -> Self {
        let n = opt.partial.len();
        // r_0 … r_{P-1}, then the virtual r_P = r_{P-2} and r_{P+1} = r_{P-1}.
        let mut rows: Vec<[Fr; 2]> = opt.partial.iter().map(|p| [p.row[1], p.row[2]]).collect();
        rows.extend_from_within(n - 2..n);

        // r_{p+1} = e_p·r_p + a_{p-1}·r_{p-1} for p = 1 ..= P, by Cramer's rule; e_0 = 0.
        let mut e = vec![Fr::ZERO; n + 1];
        let mut a = vec![Fr::ZERO; n];
        for p in 1..=n {
            let inv = inverse_cross(rows[p], rows[p - 1]);
            e[p] = cross(rows[p + 1], rows[p - 1]) * inv;
            a[p - 1] = cross(rows[p], rows[p + 1]) * inv;
        }

        let rounds = opt
            .partial
            .iter()
            .enumerate()
            .map(|(p, round)| {
                let col = [round.col[1], round.col[2]];
                ObserverRound {
                    constant: round.constant,
                    q_weights: [e[p], dot(rows[p + 1], col)],
                    t_weights: [a[p], a[p] * dot(rows[p], col)],
                }
            })
            .collect();

        let pre = &opt.pre_partial;
        let apply = |r: [Fr; 2]| -> [Fr; 3] {
            std::array::from_fn(|j| r[0] * pre[1][j] + r[1] * pre[2][j])
        };
        let entry = [pre[0], apply(rows[0]), apply(rows[1])];

        // (q, t) = (r_P·x, r_{P+1}·x): invert the matrix with those rows.
        let (first, second) = (rows[n], rows[n + 1]);
        let inv = inverse_cross(first, second);
        let exit = [
            [second[1] * inv, -first[1] * inv],
            [-second[0] * inv, first[0] * inv],
        ];
        ObserverRounds {
            entry,
            rounds,
            exit,
        }
    }

    /// Runs the partial rounds on `(s[0], q_0, t_0)` (the output of [`Self::entry`]) and
    /// returns `(s[0], s[1], s[2])`.
    #[inline(always)]
    pub(super) fn run(&self, [mut s0, mut q, mut t]: [Fr; 3]) -> [Fr; 3] {
        for round in &self.rounds {
            let u = super::pow5(s0 + round.constant);
            s0 = u + q;
            let next_q = t + Fr::sum_of_products(&round.q_weights, &[q, u]);
            t = Fr::sum_of_products(&round.t_weights, &[q, u]);
            q = next_q;
        }
        [
            s0,
            Fr::sum_of_products(&self.exit[0], &[q, t]),
            Fr::sum_of_products(&self.exit[1], &[q, t]),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_std::UniformRand;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    fn width3() -> Optimized<3> {
        Optimized::new(super::super::cached_params(3))
    }

    #[test]
    fn rows_follow_the_recurrence_and_exit_inverts() {
        let opt = width3();
        let obs = ObserverRounds::new(&opt);
        let n = opt.partial.len();
        assert_eq!(obs.rounds.len(), n);
        let row = |p: usize| [opt.partial[p].row[1], opt.partial[p].row[2]];
        // t_{p+1}'s weight a_p and q's weight e_{p+1} rebuild r_{p+2} from r_{p+1} and r_p.
        for p in 0..n - 2 {
            let (e, a) = (obs.rounds[p + 1].q_weights[0], obs.rounds[p].t_weights[0]);
            let rebuilt = [0, 1].map(|i| e * row(p + 1)[i] + a * row(p)[i]);
            assert_eq!(rebuilt, row(p + 2), "round {p}");
        }
        // The ends: e_0 = 0; the virtual rows give e_{P-1} = 0 and a_{P-2} = a_{P-1} = 1.
        assert_eq!(obs.rounds[0].q_weights[0], Fr::ZERO);
        assert_eq!(obs.rounds[n - 1].q_weights[0], Fr::ZERO);
        assert_eq!(obs.rounds[n - 2].t_weights[0], Fr::ONE);
        assert_eq!(obs.rounds[n - 1].t_weights[0], Fr::ONE);
        // exit · (r_{P-2}·x, r_{P-1}·x) = x.
        let mut rng = ChaCha20Rng::seed_from_u64(31);
        let x = [Fr::rand(&mut rng), Fr::rand(&mut rng)];
        let qt = [dot(row(n - 2), x), dot(row(n - 1), x)];
        assert_eq!([dot(obs.exit[0], qt), dot(obs.exit[1], qt)], x);
    }

    #[test]
    fn observer_rounds_equal_the_sparse_rounds() {
        let opt = width3();
        let obs = ObserverRounds::new(&opt);
        let mut rng = ChaCha20Rng::seed_from_u64(32);
        for _ in 0..20 {
            let s: [Fr; 3] = std::array::from_fn(|_| Fr::rand(&mut rng));
            let sparse = opt.permute_first(s);
            let observer = opt.second_half(obs.run(opt.first_half(s, &obs.entry)));
            assert_eq!(observer, sparse);
        }
        // A changed constant changes the output: the comparison can fail.
        let mut broken = ObserverRounds::new(&opt);
        broken.rounds[30].t_weights[1] += Fr::ONE;
        let s = [Fr::ZERO, Fr::from(1u64), Fr::from(2u64)];
        let changed = opt.second_half(broken.run(opt.first_half(s, &broken.entry)));
        assert_ne!(changed, opt.permute_first(s));
    }
}
