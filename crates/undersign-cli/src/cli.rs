//! Command-line arguments. Names are fixed (scripts and docs rely on them); flags may grow.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Anonymous, verifiable signature tallies.
///
/// Registrars keep a registry of verified members (commitments and category codes, never
/// names); signers prove membership with a zero-knowledge proof; anyone audits the count.
#[derive(Debug, Parser)]
#[command(
    name = "undersign",
    version,
    propagate_version = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate proving and verifying keys with the development (single-party) setup.
    ///
    /// WARNING: whoever runs this (or knows the seed) can forge signatures. For tests and demos;
    /// real petitions use keys from `undersign ceremony`.
    ///
    /// Example: undersign setup --depth 20 --out keys/
    Setup(SetupArgs),
    /// Create or show a signer identity.
    #[command(subcommand)]
    Identity(IdentityCommand),
    /// Sign a petition: prove membership locally, then write a signature file or submit it.
    ///
    /// Example: undersign sign --identity me.id --registry reg.json --petition pet.json --keys keys/ --submit http://collector.onion --proxy socks5h://127.0.0.1:9050
    Sign(SignArgs),
    /// Registrar key management.
    #[command(subcommand)]
    Registrar(RegistrarCommand),
    /// Keep the registry of verified members.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Open petitions.
    #[command(subcommand)]
    Petition(PetitionCommand),
    /// Collect signatures into a bundle.
    #[command(subcommand)]
    Bundle(BundleCommand),
    /// Verify one signature file against a petition and registry.
    ///
    /// Example: undersign verify sig.json --petition pet.json --registry reg.json --keys keys/
    Verify(VerifyArgs),
    /// Audit a bundle: count, breakdown and every rejected signature with its reason.
    ///
    /// Exit status: 0 fully valid, 1 anything rejected, 2 usage error or unreadable input.
    ///
    /// Example: undersign audit bundle.jsonl --registrar-key 3b6a... --ceremony ceremony/
    Audit(AuditArgs),
    /// Multi-party trusted setup: phase 1 (powers of tau), phase 2 (the circuit's keys).
    ///
    /// The keys are sound if at least one contributor in each phase kept their secret from
    /// everyone and let it be erased; anyone can verify the whole transcript. Exit status: 0
    /// success, 1 a transcript does not verify, 2 usage error or unreadable file.
    ///
    /// Example: undersign ceremony phase2 verify phase2.bin --phase1 phase1.bin --out keys/
    #[command(subcommand)]
    Ceremony(CeremonyCommand),
    /// Generate a large bundle for measuring audits (benchmarks only).
    ///
    /// Most signatures are SIMULATED with the development setup's trapdoor: they audit as
    /// valid only under that development key, which this also writes. A few real proofs are
    /// mixed in. Never use such keys or bundles for anything but measurement.
    ///
    /// Example: undersign bench-data --signatures 100000 --out bench/
    BenchData(BenchDataArgs),
    /// Run the whole story on built-in defaults: keys, registry, petition, signers, audit.
    ///
    /// Example: undersign demo --members 1000 --signers 100
    Demo(DemoArgs),
    /// Export the verifying key and proofs for other tools (snarkjs), to check without this code.
    #[command(subcommand)]
    Export(crate::export::ExportCommand),
    /// Run the collector: an HTTP service that verifies, stores and counts signatures.
    ///
    /// Creates DATA (0700), its database and the organizer token DATA/token (0600) at first
    /// start. Stores no IP address, user agent or time with anything. Stop it with Ctrl-C.
    ///
    /// Example: undersign serve --data collector/ --keys keys/ --listen 127.0.0.1:8080
    Serve(ServeArgs),
    /// Publish the tally page: audit a bundle and, only if it is fully valid, write a static
    /// site with the page (English, Belarusian, Russian), the bundle and every file needed to
    /// check it, and the exact audit command.
    ///
    /// The page needs no JavaScript and loads nothing from other hosts: serve the directory
    /// from any static host. Exit status: 0 published, 1 the bundle does not audit fully
    /// valid (nothing written), 2 usage error, unreadable input or a non-empty --out.
    ///
    /// Example: undersign publish bundle.jsonl --registrar-key 3b6a... --registry registry.json --out site/
    Publish(PublishArgs),
    /// Submit a signature file to a collector and print the receipt.
    ///
    /// Exit status: 0 stored (or already stored identically), 1 refused by the collector,
    /// 2 unreadable file or network failure.
    ///
    /// Example: undersign submit sig.json --to http://abc...xyz.onion --proxy socks5h://127.0.0.1:9050
    Submit(SubmitArgs),
    /// Print a shell completion script.
    ///
    /// Example: undersign completions bash > ~/.local/share/bash-completion/completions/undersign
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from this help.
    ///
    /// Example: undersign man > undersign.1 && man ./undersign.1
    Man,
}

/// `undersign serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Data directory (database and organizer token).
    #[arg(long)]
    pub data: PathBuf,
    /// Address to listen on. Keep it on loopback and publish it as a Tor onion service.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Key directory whose verifying key petitions may name; repeat for several. Stored in the
    /// database, so needed only once.
    #[arg(long)]
    pub keys: Vec<PathBuf>,
    /// Largest registry upload, in MiB.
    #[arg(long, default_value_t = 512)]
    pub max_registry_mib: usize,
    /// Publication interval: new signatures become public (tally and bundle) only at a
    /// publication, every this long, together with the others pending (e.g. 90s, 30m, 1h).
    #[arg(long, default_value = "1h", value_parser = undersign_server::parse_duration)]
    pub publish_every: std::time::Duration,
    /// Pending signatures a timed publication needs (closing the petition, or
    /// POST /v1/petitions/{id}/publish, publishes whatever is pending).
    #[arg(long, default_value_t = 20)]
    pub publish_min: u64,
    /// Longest a connection may take to send its request headers (or sit idle) before it is
    /// closed (e.g. 10s, 1m).
    #[arg(long, default_value = "10s", value_parser = undersign_server::parse_duration)]
    pub header_timeout: std::time::Duration,
    /// Connections served at once; more wait in the listen queue. The open-file soft limit is
    /// raised to the hard limit at start to allow them.
    #[arg(long, default_value_t = undersign_server::MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Longest an answer may wait for the client to read before the connection is closed
    /// (a bundle download nobody reads).
    #[arg(long, default_value = "60s", value_parser = undersign_server::parse_duration)]
    pub write_timeout: std::time::Duration,
    /// Bundle downloads streamed at once; more get 503.
    #[arg(long, default_value_t = 1024)]
    pub max_downloads: usize,
    /// The JavaScript auditor built for the browser (verifiers/js: `npm run build:web` writes
    /// dist/undersign-audit-worker.js): served with a "verify in your browser" page per
    /// petition, /petitions/{id}/verify, linked from its tally page.
    #[arg(long, value_name = "FILE")]
    pub web_auditor: Option<PathBuf>,
}

/// `undersign publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Bundle file (JSON Lines).
    pub bundle: PathBuf,
    /// The registrar's Ed25519 public key (64 hex digits), obtained independently.
    #[arg(long)]
    pub registrar_key: String,
    /// Directory to write the site into (created; an existing non-empty one needs --force).
    #[arg(long)]
    pub out: PathBuf,
    /// The public registry: published beside the bundle, and each disclosed group's anonymity
    /// set is shown.
    #[arg(long)]
    pub registry: Option<PathBuf>,
    /// Expected verifying key hash (pins the proving system's keys; the page and the audit
    /// command say so).
    #[arg(long)]
    pub vk_hash: Option<String>,
    /// Ceremony transcript directory (phase1.bin and phase2.bin): verify it, pin the
    /// verifying key it produced, list its contribution hashes on the page and publish the
    /// transcript beside the bundle.
    #[arg(long)]
    pub ceremony: Option<PathBuf>,
    /// Language of index.html: en, be or ru (every language is written as index.LANG.html).
    #[arg(long)]
    pub lang: Option<String>,
    /// The JavaScript auditor built for the browser (verifiers/js: `npm run build:web` writes
    /// dist/undersign-audit-worker.js): published beside the bundle with verify.html, a page
    /// that checks the bundle in the reader's browser, linked from the tally page.
    #[arg(long, value_name = "FILE")]
    pub web_auditor: Option<PathBuf>,
    /// Replace a site an earlier publish wrote in --out (a directory of other files is never
    /// replaced).
    #[arg(long)]
    pub force: bool,
}

/// `undersign submit`.
#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Signature file (from `undersign sign`).
    pub signature: PathBuf,
    /// The collector's base URL (http://host:port or http://xyz.onion).
    #[arg(long)]
    pub to: String,
    /// Proxy for the connection, e.g. socks5h://127.0.0.1:9050 for Tor (socks5h: the proxy
    /// resolves the name, as .onion addresses need).
    #[arg(long)]
    pub proxy: Option<String>,
}

/// `undersign setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Registry tree depth (capacity 2^depth members).
    #[arg(long, default_value_t = 20)]
    pub depth: u32,
    /// Directory to write keys.json, proving.key and verifying.key into.
    #[arg(long)]
    pub out: PathBuf,
    /// 32-byte seed as 64 hex digits (default: random from the OS).
    #[arg(long)]
    pub seed: Option<String>,
    /// Replace keys already in --out. Every petition opened with the old keys stops working
    /// (signing, bundling and verifying need the keys it names).
    #[arg(long)]
    pub force: bool,
}

/// `undersign identity ...`.
#[derive(Debug, Subcommand)]
pub enum IdentityCommand {
    /// Create a new identity (a random secret) in a 0600 file, encrypted with a passphrase
    /// (age, scrypt). Never prints the secret.
    ///
    /// On a terminal the passphrase is asked twice (no echo). Whoever copies an unencrypted
    /// identity can find every petition its owner signed.
    ///
    /// Example: undersign identity new --out me.id
    New {
        /// Identity file to create.
        #[arg(long)]
        out: PathBuf,
        /// Read the passphrase from this file's first line ("-": standard input) instead of
        /// asking on the terminal.
        #[arg(long, value_name = "FILE|-")]
        passphrase_file: Option<PathBuf>,
        /// Write the secret unencrypted (for tests and demos: anyone who copies the file can
        /// find every petition you sign).
        #[arg(long, conflicts_with = "passphrase_file")]
        unencrypted: bool,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the commitment to hand to a registrar.
    ///
    /// Example: undersign identity show me.id
    Show {
        /// Identity file.
        identity: PathBuf,
        /// Passphrase file ("-": standard input), if the identity is encrypted; without it the
        /// passphrase is asked on the terminal.
        #[arg(long, value_name = "FILE|-")]
        passphrase_file: Option<PathBuf>,
        /// Print one JSON object (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the identity's recovery phrase (24 words) to write on paper and keep hidden.
    ///
    /// Anyone holding the words can find every petition you sign, like the file itself. The
    /// phrase is printed only on a terminal; --out writes it to a new 0600 file instead.
    ///
    /// Example: undersign identity backup me.id
    Backup {
        /// Identity file.
        identity: PathBuf,
        /// Passphrase file ("-": standard input), if the identity is encrypted.
        #[arg(long, value_name = "FILE|-")]
        passphrase_file: Option<PathBuf>,
        /// Write the phrase to this new file (0600) instead of the terminal.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Rebuild an identity file from its recovery phrase (the same commitment: no need to ask
    /// the registrar for a new identity).
    ///
    /// The words are asked on the terminal (not echoed) unless --phrase-file is given.
    ///
    /// Example: undersign identity restore --out me.id
    Restore {
        /// Identity file to create.
        #[arg(long)]
        out: PathBuf,
        /// Read the words from this file ("-": standard input).
        #[arg(long, value_name = "FILE|-")]
        phrase_file: Option<PathBuf>,
        /// Read the new file's passphrase from this file's first line ("-": standard input).
        #[arg(long, value_name = "FILE|-")]
        passphrase_file: Option<PathBuf>,
        /// Write the secret unencrypted (for tests).
        #[arg(long, conflicts_with = "passphrase_file")]
        unencrypted: bool,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Encrypt an unencrypted identity file in place (atomically: the plain file is replaced).
    ///
    /// Example: undersign identity encrypt me.id
    Encrypt {
        /// Identity file.
        identity: PathBuf,
        /// Read the new passphrase from this file's first line ("-": standard input) instead
        /// of asking on the terminal.
        #[arg(long, value_name = "FILE|-")]
        passphrase_file: Option<PathBuf>,
    },
    /// Decrypt an encrypted identity file in place (atomically). The plain file can reveal
    /// every petition you sign to whoever copies it.
    ///
    /// Example: undersign identity decrypt me.id
    Decrypt {
        /// Identity file.
        identity: PathBuf,
        /// Passphrase file ("-": standard input); without it the passphrase is asked on the
        /// terminal.
        #[arg(long, value_name = "FILE|-")]
        passphrase_file: Option<PathBuf>,
    },
}

/// `undersign sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Identity file.
    #[arg(long)]
    pub identity: PathBuf,
    /// Passphrase file ("-": standard input), if the identity is encrypted; without it the
    /// passphrase is asked on the terminal.
    #[arg(long, value_name = "FILE|-")]
    pub passphrase_file: Option<PathBuf>,
    /// The public registry file.
    #[arg(long)]
    pub registry: PathBuf,
    /// The petition file.
    #[arg(long)]
    pub petition: PathBuf,
    /// Key directory (from `undersign setup` or a ceremony).
    #[arg(long)]
    pub keys: PathBuf,
    /// A comment to attach (bound to the proof; public).
    #[arg(long)]
    pub comment: Option<String>,
    /// Categories to disclose, by name or number, comma-separated ("none" for none). Default:
    /// the petition's categories that keep the anonymity set at or above the threshold.
    #[arg(long)]
    pub disclose: Option<String>,
    /// Smallest acceptable anonymity set.
    #[arg(long, default_value_t = 20)]
    pub min_anonymity: u64,
    /// Sign even if fewer members than --min-anonymity share the disclosed values.
    #[arg(long)]
    pub accept_small_anonymity_set: bool,
    /// Signature file to write. It proves that you signed: with --submit, leave it out and
    /// nothing is written to disk.
    #[arg(long, required_unless_present = "submit")]
    pub out: Option<PathBuf>,
    /// Replace the --out file if it exists.
    #[arg(long)]
    pub force: bool,
    /// Print one JSON object (for scripts) instead of text; not with --submit (`undersign
    /// submit` prints the receipt).
    #[arg(long, conflicts_with = "submit")]
    pub json: bool,
    /// Submit the signature to the collector at this base URL and print the receipt.
    #[arg(long)]
    pub submit: Option<String>,
    /// Proxy for --submit, e.g. socks5h://127.0.0.1:9050 for Tor.
    #[arg(long, requires = "submit")]
    pub proxy: Option<String>,
}

/// `undersign registrar ...`.
#[derive(Debug, Subcommand)]
pub enum RegistrarCommand {
    /// Create an Ed25519 registrar key (0600 file) and print its public key.
    ///
    /// Example: undersign registrar keygen --out registrar.key
    Keygen {
        /// Key file to create.
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
        /// Print one JSON object (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the public key of a registrar key file again (64 hex digits), to publish it or
    /// to pass to `audit --registrar-key`.
    ///
    /// Example: undersign registrar pubkey registrar.key
    Pubkey {
        /// Registrar key file.
        key: PathBuf,
    },
}

/// `undersign registry ...`.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Create an empty registry.
    ///
    /// Example: undersign registry init --schema schema.json --depth 20 --out registry.json
    Init {
        /// Schema file naming the categories and their values.
        #[arg(long)]
        schema: PathBuf,
        /// Tree depth.
        #[arg(long, default_value_t = 20)]
        depth: u32,
        /// Registry file to create.
        #[arg(long)]
        out: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Add members: one by commitment and categories, or many from a CSV file.
    ///
    /// Example: undersign registry add registry.json --commitment 0x12... --attr status=current --attr ministry=health
    Add {
        /// Registry file.
        registry: PathBuf,
        /// The member's commitment (from `undersign identity show`).
        #[arg(long, required_unless_present = "csv", conflicts_with = "csv")]
        commitment: Option<String>,
        /// A category's value as category=value (the value's label or code); repeat for each
        /// category.
        #[arg(long = "attr")]
        attrs: Vec<String>,
        /// CSV file with a header `commitment,<category>,...`; all rows or none are added.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Add members with unset categories (or a CSV without a column for every category)
        /// without a warning. "Unset" is a value of its own: a member with it may be alone in
        /// their disclosed group.
        #[arg(long)]
        allow_unset: bool,
        /// Print one JSON object (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Remove a member: the leaf becomes 0 and the commitment is forgotten.
    ///
    /// Example: undersign registry remove registry.json --commitment 0x12...
    Remove {
        /// Registry file.
        registry: PathBuf,
        /// Position (leaf index) of the member.
        #[arg(
            long,
            required_unless_present = "commitment",
            conflicts_with = "commitment"
        )]
        index: Option<u64>,
        /// The member's commitment.
        #[arg(long)]
        commitment: Option<String>,
        /// Print one JSON object (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Find a member by commitment: prints its position and categories (exit 1 if absent).
    ///
    /// Example: undersign registry find registry.json --commitment 0x12...
    Find {
        /// Registry file.
        registry: PathBuf,
        /// The commitment to look for.
        #[arg(long)]
        commitment: String,
        /// Print one JSON object (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Sign a checkpoint of the registry's current root.
    ///
    /// Example: undersign registry checkpoint registry.json --key registrar.key
    Checkpoint {
        /// Registry file.
        registry: PathBuf,
        /// Registrar key file.
        #[arg(long)]
        key: PathBuf,
        /// Sign a checkpoint even if no member was added or removed since the last one (its
        /// root repeats the last one's; useful only to record a later time).
        #[arg(long)]
        unchanged: bool,
        /// Print one JSON object (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Members per category value, to compare with public staff figures.
    ///
    /// Example: undersign registry stats registry.json
    Stats {
        /// Registry file.
        registry: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `undersign petition ...`.
#[derive(Debug, Subcommand)]
pub enum PetitionCommand {
    /// Create a petition file; its id is the blake3 hash of the file.
    ///
    /// Example: undersign petition new --registry registry.json --title "Stop" --text-file letter.txt --disclose status,ministry --keys keys/ --out petition.json
    New {
        /// The registry whose members may sign (must have a checkpoint).
        #[arg(long)]
        registry: PathBuf,
        /// Title.
        #[arg(long)]
        title: String,
        /// File with the petition's text.
        #[arg(long)]
        text_file: PathBuf,
        /// Categories signers may disclose, comma-separated names or numbers ("none" for
        /// none).
        #[arg(long)]
        disclose: String,
        /// Key directory whose verifying key signatures must use (its hash goes in the petition).
        #[arg(long)]
        keys: PathBuf,
        /// Oldest checkpoint whose root signatures may use (default: the registry's newest).
        #[arg(long)]
        min_checkpoint: Option<u64>,
        /// Newest checkpoint whose root signatures may use, or "open" for every later one
        /// (default: the same as --min-checkpoint, so the petition accepts exactly one
        /// checkpoint). A wider window lets members added later sign, but a member removed
        /// and re-issued an identity inside it could be counted twice; audits state how many.
        #[arg(long, value_name = "SEQUENCE|open")]
        max_checkpoint: Option<String>,
        /// Petition file to create.
        #[arg(long)]
        out: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
        /// Print one JSON object (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// `undersign bundle ...`.
#[derive(Debug, Subcommand)]
pub enum BundleCommand {
    /// Validate signatures, keep one per nullifier, sort by nullifier, write a bundle.
    ///
    /// Example: undersign bundle build --petition pet.json --registry reg.json --keys keys/ --out bundle.jsonl sigs/*.json
    Build {
        /// Petition file.
        #[arg(long)]
        petition: PathBuf,
        /// Registry file (for its schema and signed checkpoints).
        #[arg(long)]
        registry: PathBuf,
        /// Key directory (its verifying key is embedded).
        #[arg(long)]
        keys: PathBuf,
        /// Bundle file to write (never one of the signature files).
        #[arg(long)]
        out: PathBuf,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
        /// Print one JSON object (for scripts) instead of text.
        #[arg(long)]
        json: bool,

        /// Signature files.
        #[arg(required = true)]
        signatures: Vec<PathBuf>,
    },
}

/// `undersign verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Signature file.
    pub signature: PathBuf,
    /// Petition file.
    #[arg(long)]
    pub petition: PathBuf,
    /// Registry file.
    #[arg(long)]
    pub registry: PathBuf,
    /// Key directory.
    #[arg(long)]
    pub keys: PathBuf,
    /// Print one JSON object (for scripts) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `undersign audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Bundle file (JSON Lines).
    pub bundle: PathBuf,
    /// The registrar's Ed25519 public key (64 hex digits), obtained independently.
    #[arg(long)]
    pub registrar_key: String,
    /// Expected verifying key hash (pins the proving system's keys).
    #[arg(long)]
    pub vk_hash: Option<String>,
    /// Ceremony transcript directory (phase1.bin and phase2.bin): verify it and require the
    /// bundle's verifying key to be the one it produced.
    #[arg(long)]
    pub ceremony: Option<PathBuf>,
    /// The public registry, to report each disclosed group's anonymity set.
    #[arg(long)]
    pub registry: Option<PathBuf>,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Check proofs with arkworks' own point decoding and `Groth16::verify`, one by one,
    /// instead of the fast paths (slower; the report is the same).
    #[arg(long)]
    pub reference: bool,
}

/// `undersign ceremony ...`.
#[derive(Debug, Subcommand)]
pub enum CeremonyCommand {
    /// Phase 1: powers of tau, independent of the circuit.
    #[command(subcommand)]
    Phase1(Phase1Command),
    /// Phase 2: the membership circuit's Groth16 keys, derived from a verified phase 1.
    #[command(subcommand)]
    Phase2(Phase2Command),
}

/// `undersign ceremony phase1 ...`.
#[derive(Debug, Subcommand)]
pub enum Phase1Command {
    /// Start a phase-1 transcript of 2^POWER powers (no contributions yet).
    ///
    /// 2^13 covers depths up to 20 (5,616 constraints), 2^14 depths up to 32.
    ///
    /// Example: undersign ceremony phase1 new --power 13 --out phase1-0.bin
    New {
        /// log2 of the number of powers (4 to 16).
        #[arg(long)]
        power: u32,
        /// Transcript file to create.
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Check a transcript, add your contribution (secrets from the OS random generator, erased
    /// afterwards) and print the contribution hash to publish.
    ///
    /// Example: undersign ceremony phase1 contribute phase1-2.bin --out phase1-3.bin
    Contribute {
        /// The transcript you received.
        input: PathBuf,
        /// The transcript to write, with your contribution.
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Verify every contribution and the powers; print the contribution hashes.
    ///
    /// Example: undersign ceremony phase1 verify phase1-3.bin
    Verify {
        /// Transcript file.
        transcript: PathBuf,
    },
    /// Start a phase-1 transcript from the first 2^POWER powers of a snarkjs .ptau file (a
    /// public powers-of-tau ceremony); its blake2b hash is bound into the transcript.
    ///
    /// Example: undersign ceremony phase1 import powersOfTau28_hez_final_13.ptau --power 13 --out phase1-0.bin
    Import {
        /// The snarkjs powers-of-tau file (.ptau).
        ptau: PathBuf,
        /// log2 of the number of powers to take (4 to 16; at most the file's power).
        #[arg(long)]
        power: u32,
        /// Transcript file to create.
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
}

/// `undersign ceremony phase2 ...`.
#[derive(Debug, Subcommand)]
pub enum Phase2Command {
    /// Verify a phase-1 transcript and derive the circuit's initial keys from it.
    ///
    /// Example: undersign ceremony phase2 new --depth 20 --phase1 phase1.bin --out phase2-0.bin
    New {
        /// Registry tree depth of the circuit.
        #[arg(long, default_value_t = 20)]
        depth: u32,
        /// The final phase-1 transcript.
        #[arg(long)]
        phase1: PathBuf,
        /// Phase-2 transcript to create.
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Verify phase 1 and the transcript you received against it and the circuit, add your
    /// contribution (delta ← d·delta with d from the OS random generator, erased afterwards) and
    /// print the contribution hash to publish.
    ///
    /// Example: undersign ceremony phase2 contribute phase2-2.bin --phase1 phase1.bin --out phase2-3.bin
    Contribute {
        /// The transcript you received.
        input: PathBuf,
        /// The final phase-1 transcript (published by the coordinator): your contribution is
        /// only added to keys that verify against it.
        #[arg(long)]
        phase1: PathBuf,
        /// The transcript to write, with your contribution.
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Add the final public-randomness contribution: d is derived from a beacon value announced
    /// in advance (e.g. a future block hash), hashed 2^EXPONENT times with blake3, so anyone
    /// recomputes it.
    ///
    /// Example: undersign ceremony phase2 beacon phase2-3.bin --phase1 phase1.bin --beacon 00000000000000000002a7c4... --exponent 20 --out phase2.bin
    Beacon {
        /// The transcript after the last contribution.
        input: PathBuf,
        /// The final phase-1 transcript; the transcript is verified against it first.
        #[arg(long)]
        phase1: PathBuf,
        /// The beacon value, hex (1 to 255 bytes).
        #[arg(long)]
        beacon: String,
        /// The beacon is hashed 2^EXPONENT times (10 to 32; verifiers repeat it). It must be the last contribution.
        #[arg(long)]
        exponent: u8,
        /// The transcript to write.
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Verify phase 1, then phase 2 against it and the circuit; print every contribution hash
    /// and the keys' hashes; with --out, write a key directory (setup "ceremony").
    ///
    /// Example: undersign ceremony phase2 verify phase2.bin --phase1 phase1.bin --out keys/
    Verify {
        /// The phase-2 transcript.
        transcript: PathBuf,
        /// The phase-1 transcript it was made from.
        #[arg(long)]
        phase1: PathBuf,
        /// Write keys.json, proving.key and verifying.key into this directory.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// `undersign bench-data`.
#[derive(Debug, Args)]
pub struct BenchDataArgs {
    /// Signatures in the bundle.
    #[arg(long)]
    pub signatures: usize,
    /// How many of them carry real proofs.
    #[arg(long, default_value_t = 16)]
    pub real: usize,
    /// Tree depth.
    #[arg(long, default_value_t = 20)]
    pub depth: u32,
    /// Output directory (keys, registry, petition, bundle.jsonl): new or empty.
    #[arg(long)]
    pub out: PathBuf,
    /// Write into --out even if it holds files (they are replaced).
    #[arg(long)]
    pub force: bool,
    /// Development-setup seed, 64 hex digits.
    #[arg(
        long,
        default_value = "62656e6368206461746120736565642c206e6f7420666f72207573652121210a"
    )]
    pub seed: String,
}

/// `undersign demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Registry members.
    #[arg(long, default_value_t = 1000)]
    pub members: usize,
    /// Members who sign.
    #[arg(long, default_value_t = 100)]
    pub signers: usize,
    /// Tree depth.
    #[arg(long, default_value_t = 20)]
    pub depth: u32,
    /// Directory for the demo's files, new or empty (default: a new temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Write into --dir even if it holds files (they are replaced).
    #[arg(long)]
    pub force: bool,
}
