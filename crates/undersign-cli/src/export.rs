//! `undersign export snarkjs`: the verifying key as snarkjs's `verification_key.json`, and
//! signatures as snarkjs's `proof.json` and `public.json` (`SPEC.md` §15.6), so that anyone can
//! check a proof with `snarkjs groth16 verify` instead of this codebase.
//!
//! The mapping: every number is a decimal string; G1 points are projective `[x, y, "1"]`;
//! G2 points are `[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]` (for `c0 + c1·u`, `c0` first,
//! as snarkjs writes them; Ethereum's precompile order is the reverse); `vk_alphabeta_12` is
//! `e(α, β)` in `Fq12 = Fq6[w]`, `Fq6 = Fq2[v]`, each `[c0, c1(, c2)]`; public signals are the
//! six public inputs in the order of §8.

use crate::ui::{refuse_input_as_output, refuse_overwrite};
use anyhow::{anyhow, bail, Context, Result};
use ark_bn254::{Bn254, Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::AffineRepr;
use ark_ff::PrimeField;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use undersign_core::atomic::write_atomic;
use undersign_proof::encoding::{decode_lower_hex, verifying_key_from_bytes};
use undersign_proof::{Proof, VerifyingKey};
use undersign_tally::bundle::BundleHeader;
use undersign_tally::petition::PetitionFile;
use undersign_tally::signature::Signature;

/// `undersign export`.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write the verifying key and proofs in snarkjs's JSON formats (`snarkjs groth16 verify`).
    ///
    /// With --keys (or --bundle and --out): the verifying key as verification_key.json. With
    /// --signature and --petition: proof.json and public.json in --out-dir. With --bundle and
    /// --out-dir: verification_key.json, and for every signature line N (the header is line 1)
    /// line-N/proof.json and line-N/public.json.
    ///
    /// Example: undersign export snarkjs --keys keys/ --out verification_key.json
    /// Example: undersign export snarkjs --signature sig.json --petition petition.json --out-dir proof/
    /// Example: snarkjs groth16 verify verification_key.json proof/public.json proof/proof.json
    Snarkjs(SnarkjsArgs),
}

/// `undersign export snarkjs`.
#[derive(Debug, Args)]
pub struct SnarkjsArgs {
    /// Key directory whose verifying key to export.
    #[arg(long, conflicts_with_all = ["bundle", "signature"])]
    pub keys: Option<PathBuf>,
    /// Bundle: its header's verifying key, and with --out-dir every signature line.
    #[arg(long, conflicts_with = "signature")]
    pub bundle: Option<PathBuf>,
    /// Signature file to export as proof.json and public.json (needs --petition).
    #[arg(long, requires = "petition")]
    pub signature: Option<PathBuf>,
    /// The petition the signature signs (its scope is a public input).
    #[arg(long, requires = "signature")]
    pub petition: Option<PathBuf>,
    /// Output file for verification_key.json (with --keys, or --bundle without --out-dir).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Output directory for proof.json and public.json (with --signature or --bundle).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Replace existing output files.
    #[arg(long)]
    pub force: bool,
}

/// Runs `undersign export`.
pub fn run(command: ExportCommand) -> Result<ExitCode> {
    match command {
        ExportCommand::Snarkjs(args) => snarkjs(args),
    }
}

fn snarkjs(args: SnarkjsArgs) -> Result<ExitCode> {
    if let Some(dir) = &args.keys {
        let out = args
            .out
            .as_deref()
            .ok_or_else(|| anyhow!("--keys needs --out FILE"))?;
        let (_, verifier) = undersign_proof::keys::load_verifier(dir)
            .with_context(|| format!("keys {}", dir.display()))?;
        write_json(
            out,
            &verification_key(verifier.verifying_key()),
            args.force,
            &[],
        )?;
        println!("wrote {}", out.display());
    } else if let Some(bundle) = &args.bundle {
        export_bundle(bundle, &args)?;
    } else if let (Some(sig), Some(pet)) = (&args.signature, &args.petition) {
        let dir = args
            .out_dir
            .as_deref()
            .ok_or_else(|| anyhow!("--signature needs --out-dir DIR"))?;
        let petition_bytes =
            std::fs::read(pet).with_context(|| format!("reading petition {}", pet.display()))?;
        let petition = PetitionFile::parse(petition_bytes)
            .with_context(|| format!("petition {}", pet.display()))?;
        let bytes =
            std::fs::read(sig).with_context(|| format!("reading signature {}", sig.display()))?;
        let signature =
            Signature::from_json(&bytes).with_context(|| format!("signature {}", sig.display()))?;
        write_signature(dir, &signature, &petition, args.force, &[sig, pet])?;
        println!(
            "wrote {} and {}",
            dir.join("proof.json").display(),
            dir.join("public.json").display()
        );
    } else {
        bail!("give --keys DIR, --bundle FILE, or --signature FILE with --petition FILE");
    }
    Ok(ExitCode::SUCCESS)
}

fn export_bundle(path: &Path, args: &SnarkjsArgs) -> Result<()> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading bundle {}", path.display()))?;
    let mut lines = text.split('\n');
    let first = lines.next().unwrap_or_default();
    // Parsed as the audit parses it (`SPEC.md` §10: one JSON object, never the array form).
    let header: BundleHeader =
        undersign_registry::json::from_slice(first.strip_suffix('\r').unwrap_or(first).as_bytes())
            .with_context(|| {
                format!(
                    "bundle {}: the first line is not a bundle header",
                    path.display()
                )
            })?;
    let vk_bytes = decode_lower_hex(&header.verifying_key)
        .map_err(|e| anyhow!("bundle {}: verifying_key: {e}", path.display()))?;
    let vk = verifying_key_from_bytes(&vk_bytes)
        .map_err(|e| anyhow!("bundle {}: verifying_key: {e}", path.display()))?;
    let vk_json = verification_key(&vk);
    let Some(dir) = &args.out_dir else {
        let out = args
            .out
            .as_deref()
            .ok_or_else(|| anyhow!("--bundle needs --out FILE or --out-dir DIR"))?;
        write_json(out, &vk_json, args.force, &[path])?;
        println!("wrote {}", out.display());
        return Ok(());
    };
    let petition = PetitionFile::parse(header.petition_file.clone().into_bytes())
        .with_context(|| format!("bundle {}: petition_file", path.display()))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    write_json(
        &dir.join("verification_key.json"),
        &vk_json,
        args.force,
        &[path],
    )?;
    let (mut written, mut skipped) = (0usize, 0usize);
    for (i, line) in lines.enumerate() {
        let line_no = i + 2;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        match Signature::from_json(line.as_bytes()) {
            Ok(sig) => {
                let sub = dir.join(format!("line-{line_no}"));
                std::fs::create_dir_all(&sub)
                    .with_context(|| format!("creating {}", sub.display()))?;
                write_signature(&sub, &sig, &petition, args.force, &[path])?;
                written += 1;
            }
            Err(e) => {
                eprintln!("line {line_no}: skipped, not a signature: {e}");
                skipped += 1;
            }
        }
    }
    println!(
        "wrote {} (verification_key.json and {written} proofs; {skipped} lines skipped)",
        dir.display()
    );
    Ok(())
}

/// snarkjs's `verification_key.json` for Groth16 over BN254.
#[derive(Debug, Serialize)]
pub struct VerificationKeyJson {
    /// `"groth16"`.
    pub protocol: &'static str,
    /// `"bn128"` (snarkjs's name for BN254).
    pub curve: &'static str,
    /// Number of public inputs, 6.
    #[serde(rename = "nPublic")]
    pub n_public: usize,
    /// α in G1.
    pub vk_alpha_1: [String; 3],
    /// β in G2.
    pub vk_beta_2: [[String; 2]; 3],
    /// γ in G2.
    pub vk_gamma_2: [[String; 2]; 3],
    /// δ in G2.
    pub vk_delta_2: [[String; 2]; 3],
    /// e(α, β) in Fq12.
    pub vk_alphabeta_12: [[[String; 2]; 3]; 2],
    /// `γ_abc`: one G1 point per public input plus one.
    #[serde(rename = "IC")]
    pub ic: Vec<[String; 3]>,
}

/// snarkjs's `proof.json`.
#[derive(Debug, Serialize)]
pub struct ProofJson {
    /// A in G1.
    pub pi_a: [String; 3],
    /// B in G2.
    pub pi_b: [[String; 2]; 3],
    /// C in G1.
    pub pi_c: [String; 3],
    /// `"groth16"`.
    pub protocol: &'static str,
    /// `"bn128"`.
    pub curve: &'static str,
}

fn dec(x: Fq) -> String {
    x.into_bigint().to_string()
}

fn fq2(x: Fq2) -> [String; 2] {
    [dec(x.c0), dec(x.c1)]
}

/// A G1 point as snarkjs writes it: `[x, y, "1"]`, or `["0", "1", "0"]` at infinity.
pub fn g1(p: &G1Affine) -> [String; 3] {
    if p.is_zero() {
        return ["0".into(), "1".into(), "0".into()];
    }
    [dec(p.x), dec(p.y), "1".into()]
}

/// A G2 point as snarkjs writes it: `[[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]]`.
pub fn g2(p: &G2Affine) -> [[String; 2]; 3] {
    if p.is_zero() {
        return [
            ["0".into(), "0".into()],
            ["1".into(), "0".into()],
            ["0".into(), "0".into()],
        ];
    }
    [fq2(p.x), fq2(p.y), ["1".into(), "0".into()]]
}

/// The verifying key in snarkjs's format.
pub fn verification_key(vk: &VerifyingKey) -> VerificationKeyJson {
    let ab = Bn254::pairing(vk.alpha_g1, vk.beta_g2).0;
    let fq6 = |x: ark_bn254::Fq6| [fq2(x.c0), fq2(x.c1), fq2(x.c2)];
    VerificationKeyJson {
        protocol: "groth16",
        curve: "bn128",
        n_public: vk.gamma_abc_g1.len().saturating_sub(1),
        vk_alpha_1: g1(&vk.alpha_g1),
        vk_beta_2: g2(&vk.beta_g2),
        vk_gamma_2: g2(&vk.gamma_g2),
        vk_delta_2: g2(&vk.delta_g2),
        vk_alphabeta_12: [fq6(ab.c0), fq6(ab.c1)],
        ic: vk.gamma_abc_g1.iter().map(g1).collect(),
    }
}

/// A proof in snarkjs's format.
pub fn proof_json(proof: &Proof) -> ProofJson {
    ProofJson {
        pi_a: g1(&proof.a),
        pi_b: g2(&proof.b),
        pi_c: g1(&proof.c),
        protocol: "groth16",
        curve: "bn128",
    }
}

/// The public signals: the six public inputs of `SPEC.md` §8, in order, as decimal strings.
pub fn public_json(signature: &Signature, petition: &PetitionFile) -> Vec<String> {
    signature
        .public_inputs(petition.scope())
        .to_vec()
        .into_iter()
        .map(|x: Fr| x.into_bigint().to_string())
        .collect()
}

fn write_signature(
    dir: &Path,
    signature: &Signature,
    petition: &PetitionFile,
    force: bool,
    inputs: &[&Path],
) -> Result<()> {
    if signature.petition != petition.id() {
        bail!(
            "the signature is for petition {}, not {}",
            hex::encode(signature.petition),
            petition.id_hex()
        );
    }
    let proof = signature
        .proof
        .decode()
        .map_err(|e| anyhow!("the signature's proof does not decode: {e}"))?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    write_json(&dir.join("proof.json"), &proof_json(&proof), force, inputs)?;
    write_json(
        &dir.join("public.json"),
        &public_json(signature, petition),
        force,
        inputs,
    )
}

fn write_json(out: &Path, value: &impl Serialize, force: bool, inputs: &[&Path]) -> Result<()> {
    refuse_overwrite(out, force)?;
    refuse_input_as_output(out, inputs.iter().copied())?;
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    write_atomic(out, text.as_bytes(), false).with_context(|| format!("writing {}", out.display()))
}
