//! The verification queue (`SPEC.md` §16): submissions that passed parsing and the duplicate
//! check wait here, and one verifier thread checks everything queued together.
//!
//! The verifier thread takes every queued submission (at most [`MAX_VERIFY_BATCH`]), groups
//! them by petition checker, splits each group in one part per core, and for each part runs
//! the tally crate's [`Checker::decode_many`] then [`Checker::verify_decoded`]: the rules
//! (petition, disclosure mask, checkpoint root) per signature, then one
//! random-linear-combination check of the part's proofs, exactly as `undersign audit` does. The work runs on rayon's pool (one thread per
//! core); the thread itself only waits for work, so the async runtime never verifies.
//!
//! What the queue guarantees:
//!
//! - Each submission gets its own answer, in its own oneshot, and exactly the answer a lone
//!   [`Checker::check`] would give it: a batch that fails is bisected until every invalid
//!   proof is named (422 `invalid_proof`) and every valid one cleared. So nothing leaks across
//!   requests: one submitter's invalid proof cannot make another submitter's valid proof fail,
//!   nor let it pass. (The batch coefficients come from a CSPRNG seeded by the operating
//!   system, which submitters cannot predict: invalid proofs pass a batch check together only
//!   with negligible probability, as in the audit; see `undersign_proof::batch`.)
//! - No submission is stored before its proof passed: the handler sends it to the writer only
//!   after its answer here was `Ok`.
//! - At most [`Limits::pending_verifications`](crate::Limits::pending_verifications)
//!   submissions wait or are being verified; beyond that, submissions get 503 (each queued
//!   job holds a semaphore permit until it is answered, even if its submitter went away).
//! - If verifying a group panics, its submitters get 500 and the thread goes on with the next.

use rand::rngs::StdRng;
use rand::SeedableRng;
use rayon::prelude::*;
use std::sync::mpsc;
use std::sync::Arc;
use tokio::sync::oneshot;
use undersign_tally::check::{Checker, Rejection};
use undersign_tally::signature::Signature;

/// Submissions verified together at most (the rest wait for the next round).
pub(crate) const MAX_VERIFY_BATCH: usize = 4096;

/// What a queued submission is answered with: the signature as verified, or why not.
pub(crate) type Verdict = Result<Signature, Rejection>;

/// One submission waiting for verification.
pub(crate) struct VerifyJob {
    /// The checker of the submission's petition, taken when it arrived.
    pub checker: Arc<Checker>,
    /// The request body (the signature's JSON), parsed once already by the handler.
    pub body: bytes::Bytes,
    /// Where the verdict goes.
    pub reply: oneshot::Sender<Verdict>,
    /// Its place among [`Limits::pending_verifications`](crate::Limits::pending_verifications),
    /// given back when the job is answered (or dropped).
    pub permit: tokio::sync::OwnedSemaphorePermit,
}

/// The sending side of the queue, shared by the handlers.
pub(crate) type VerifyQueue = mpsc::Sender<VerifyJob>;

/// Starts the verifier thread; it stops when every [`VerifyQueue`] clone is dropped.
pub(crate) fn start() -> std::io::Result<VerifyQueue> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("undersign-verifier".into())
        .spawn(move || verifier_loop(&rx))?;
    Ok(tx)
}

/// Waits for a submission, takes it and everything queued behind it (up to
/// [`MAX_VERIFY_BATCH`]), verifies them and answers each; again until the queue is closed.
/// While one round is verified, new submissions queue up for the next, so rounds grow with
/// the load.
fn verifier_loop(rx: &mpsc::Receiver<VerifyJob>) {
    let mut rng = StdRng::from_entropy();
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_VERIFY_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        for group in group_by_checker(jobs) {
            verify_group(group, &mut rng);
        }
    }
}

/// Splits `jobs` into groups that share one checker (one per petition, unless a registry
/// extension replaced a petition's checker meanwhile), keeping arrival order within each.
fn group_by_checker(jobs: Vec<VerifyJob>) -> Vec<Vec<VerifyJob>> {
    let mut groups: Vec<Vec<VerifyJob>> = Vec::new();
    for job in jobs {
        match groups
            .iter_mut()
            .find(|group| Arc::ptr_eq(&group[0].checker, &job.checker))
        {
            Some(group) => group.push(job),
            None => groups.push(vec![job]),
        }
    }
    groups
}

/// Groups smaller than this are verified as one batch; larger ones are split in one part per
/// core (each at least this large).
const MIN_PART: usize = 16;

/// Verifies one group and answers each of its submissions. The group is split into one part
/// per core, verified in parallel, each as one batch: a batch check already uses every core,
/// but a failing batch's bisection ends verifying proofs one at a time on one thread, and
/// under a flood of invalid proofs that is most of the work. A panic drops the reply senders
/// of the part that panicked: their handlers answer 500.
fn verify_group(group: Vec<VerifyJob>, rng: &mut StdRng) {
    let Some(checker) = group.first().map(|job| job.checker.clone()) else {
        return;
    };
    let parts = (group.len() / MIN_PART).clamp(1, rayon::current_num_threads().max(1));
    let part_len = group.len().div_ceil(parts);
    let mut jobs = group.into_iter();
    let mut work: Vec<(Vec<VerifyJob>, StdRng)> = Vec::with_capacity(parts);
    loop {
        let part: Vec<VerifyJob> = jobs.by_ref().take(part_len).collect();
        if part.is_empty() {
            break;
        }
        // Each part draws its batch coefficients from its own generator, seeded from the
        // verifier's (itself seeded by the operating system).
        let part_rng = StdRng::from_rng(&mut *rng).unwrap_or_else(|_| StdRng::from_entropy());
        work.push((part, part_rng));
    }
    work.into_par_iter()
        .for_each(|(part, mut part_rng)| verify_part(&checker, part, &mut part_rng));
}

/// Verifies `part` as one batch ([`Checker::decode_many`], [`Checker::verify_decoded`]) and
/// answers each submission in it.
fn verify_part(checker: &Checker, part: Vec<VerifyJob>, rng: &mut StdRng) {
    let verdicts = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let inputs: Vec<Result<&[u8], String>> =
            part.iter().map(|job| Ok(job.body.as_ref())).collect();
        checker.verify_decoded(checker.decode_many(&inputs), rng)
    }));
    let Ok(verdicts) = verdicts else {
        eprintln!(
            "collector: verifying a batch of {} signature(s) panicked; they were answered 500",
            part.len()
        );
        return;
    };
    for (job, verdict) in part.into_iter().zip(verdicts) {
        // The submitter may have gone away; nothing to do then.
        let _ = job
            .reply
            .send(verdict.map(|(signature, _checkpoint)| signature));
        drop(job.permit);
    }
}
