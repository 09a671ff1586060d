//! `undersign publish`: audits a bundle and, only if it is fully valid, writes the public
//! tally page as a static site (any static host, IPFS, a USB stick), with every file needed
//! to check it beside it.
//!
//! The site is built in a hidden temporary directory next to `--out` and renamed into place,
//! so `--out` holds the old site or the new one, never a part; a bundle that does not audit
//! leaves nothing behind. The bundle is copied first and the copy is audited, so the
//! published file is exactly the audited one.

use crate::cli::PublishArgs;
use crate::report;
use crate::workflow;
use crate::EXIT_REJECTED;
use anyhow::{anyhow, bail, ensure, Context, Result};
use rand::rngs::OsRng;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use undersign_ceremony::export::{
    verify_transcript_dir, VerifiedCeremony, PHASE1_FILE, PHASE2_FILE,
};
use undersign_page::{
    render_petition_with, render_verify, static_file_name, verify_file_name, Ceremony, Download,
    DownloadKind, Lang, LangLinks, PetitionPage, VerifyPageFiles, LANGS, VERIFY_SCRIPT,
    VERIFY_SCRIPT_FILE, WORKER_FILE,
};
use undersign_registry::registry::Registry;
use undersign_tally::bundle::{AuditOptions, AuditReport, BundleHeader, MAX_HEADER_BYTES};
use undersign_tally::petition::PetitionFile;

/// The bundle's name inside a published site.
pub const BUNDLE_FILE: &str = "bundle.jsonl";
/// The petition file's name inside a published site.
pub const PETITION_FILE: &str = "petition.json";
/// The registry's name inside a published site (with `--registry`).
pub const REGISTRY_FILE: &str = "registry.json";
/// The verifying key's name inside a published site.
pub const VERIFYING_KEY_FILE: &str = "verifying.key";
/// `undersign audit --json` of the bundle, inside a published site.
pub const REPORT_FILE: &str = "audit.json";
/// The exact audit command, inside a published site.
pub const COMMAND_FILE: &str = "audit-command.txt";
/// The ceremony transcript's directory inside a published site (with `--ceremony`).
pub const CEREMONY_DIR: &str = "ceremony";

/// What to publish.
pub(crate) struct SiteRequest<'a> {
    /// The bundle to audit and publish.
    pub bundle: &'a Path,
    /// The registrar's key and the pinned verifying key hash, if any.
    pub options: AuditOptions,
    /// The registry and its file, for anonymity sets and to publish beside the bundle.
    pub registry: Option<(&'a Registry, &'a Path)>,
    /// A verified ceremony transcript and its directory, to list and publish (its verifying
    /// key is the one `options` pins).
    pub ceremony: Option<(Ceremony, &'a Path)>,
    /// The JavaScript auditor built as a Web Worker (`npm run build:web` in `verifiers/js`):
    /// copied in as `undersign-audit-worker.js`, with the "verify in your browser" pages
    /// (`verify.html`, `verify.LANG.html`) and a link to them on the tally page.
    pub web_auditor: Option<&'a Path>,
    /// Every language, the one of `index.html` first.
    pub langs: &'a [Lang],
    /// The site's directory.
    pub out: &'a Path,
    /// Replace a non-empty `out`.
    pub force: bool,
}

/// What became of a publication.
pub(crate) enum SiteOutcome {
    /// Written.
    Published {
        /// The site's `index.html`.
        index: PathBuf,
        /// The audit.
        report: Box<AuditReport>,
        /// The largest page, in bytes.
        page_bytes: usize,
    },
    /// The bundle does not audit fully valid: nothing was written.
    Refused(Box<AuditReport>),
}

/// `undersign publish`.
pub fn run(args: PublishArgs) -> Result<ExitCode> {
    let registrar_key = crate::ui::registrar_key_arg(&args.registrar_key)?;
    let langs = ordered_langs(args.lang.as_deref())?;
    refuse_existing(&args.out, args.force)?;
    let registry = args
        .registry
        .as_deref()
        .map(workflow::load_registry)
        .transpose()?;
    let mut pinned_vk_hash = args
        .vk_hash
        .as_deref()
        .map(|text| crate::ui::hex_arg("--vk-hash", text))
        .transpose()?;
    let mut ceremony = None;
    if let Some(dir) = &args.ceremony {
        let bar = crate::ui::spinner("verifying the ceremony transcript");
        let verified = verify_transcript_dir(dir, &mut OsRng);
        bar.finish_and_clear();
        let verified = match verified {
            Ok(v) => v,
            Err(e) if e.is_verification_failure() => {
                eprintln!(
                    "not published: ceremony transcript {}: {e}; {} was not written",
                    dir.display(),
                    args.out.display()
                );
                return Ok(ExitCode::from(EXIT_REJECTED));
            }
            Err(e) => {
                return Err(anyhow!(e))
                    .with_context(|| format!("ceremony transcript {}", dir.display()))
            }
        };
        if let Some(pinned) = &pinned_vk_hash {
            if pinned != &verified.verifying_key_hash {
                eprintln!(
                    "not published: --vk-hash {pinned} is not the verifying key the ceremony \
                     produced ({}); {} was not written",
                    verified.verifying_key_hash,
                    args.out.display()
                );
                return Ok(ExitCode::from(EXIT_REJECTED));
            }
        }
        pinned_vk_hash = Some(verified.verifying_key_hash.clone());
        ceremony = Some((ceremony_view(&verified), dir.as_path()));
    }
    let request = SiteRequest {
        bundle: &args.bundle,
        options: AuditOptions {
            registrar_key,
            verifier: Default::default(),
            pinned_vk_hash,
        },
        registry: registry.as_ref().zip(args.registry.as_deref()),
        ceremony,
        web_auditor: args.web_auditor.as_deref(),
        langs: &langs,
        out: &args.out,
        force: args.force,
    };
    match write_site(&request)? {
        SiteOutcome::Published {
            index,
            report,
            page_bytes,
        } => {
            println!(
                "published {} verified signatures of \"{}\"",
                report.count,
                report::clean(&title_of(&index).unwrap_or_default())
            );
            println!("page:      {}", index.display());
            println!(
                "languages: {}",
                langs
                    .iter()
                    .map(|l| l.code())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            println!("page size: {page_bytes} bytes (largest language, bundle not included)");
            if args.web_auditor.is_some() {
                println!(
                    "in the browser: {} (serve the site over http(s); workers do not run from \
                     file://)",
                    index.with_file_name("verify.html").display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        SiteOutcome::Refused(report) => {
            eprint!("{}", report::render(&report, None));
            eprintln!(
                "\nnot published: the bundle does not audit fully valid; {} was not written",
                args.out.display()
            );
            Ok(ExitCode::from(EXIT_REJECTED))
        }
    }
}

/// What the page lists of a verified ceremony.
fn ceremony_view(verified: &VerifiedCeremony) -> Ceremony {
    Ceremony {
        phase1: verified
            .phase1_contributions
            .iter()
            .map(hex::encode)
            .collect(),
        phase2: verified
            .phase2_contributions
            .iter()
            .map(|(hash, _)| hex::encode(hash))
            .collect(),
        beacon: verified
            .phase2_contributions
            .last()
            .and_then(|(_, beacon)| beacon.as_ref())
            .map(|b| (hex::encode(&b.value), b.exponent)),
    }
}

/// The page's title, read back for the summary line (the site's `petition.json`).
fn title_of(index: &Path) -> Option<String> {
    let dir = index.parent()?;
    let bytes = std::fs::read(dir.join(PETITION_FILE)).ok()?;
    PetitionFile::parse(bytes)
        .ok()
        .map(|p| p.fields().title.clone())
}

/// Every language the page is written in, `first` (a code, default English) first.
fn ordered_langs(first: Option<&str>) -> Result<Vec<Lang>> {
    let first = match first {
        None => Lang::En,
        Some(code) => Lang::from_code(code).ok_or_else(|| {
            anyhow!(
                "--lang {code:?}: the page is written in {}",
                LANGS.map(|l| l.code()).join(", ")
            )
        })?,
    };
    let mut langs = vec![first];
    langs.extend(LANGS.into_iter().filter(|&l| l != first));
    Ok(langs)
}

/// Refuses an `out` that is a file, or a non-empty directory unless `force` and it holds a
/// site this command wrote (an `index.html` and a bundle): `--force` replaces a previous site,
/// never a directory of other files (`--out . --force` would otherwise delete them).
fn refuse_existing(out: &Path, force: bool) -> Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(out) else {
        return Ok(());
    };
    ensure!(
        meta.is_dir(),
        "{} exists and is not a directory; choose another --out",
        out.display()
    );
    let empty = std::fs::read_dir(out)
        .with_context(|| format!("reading {}", out.display()))?
        .next()
        .is_none();
    if !empty && !force {
        bail!(
            "{} exists and is not empty; pass --force to replace it",
            out.display()
        );
    }
    let site = out.join("index.html").is_file() && out.join(BUNDLE_FILE).is_file();
    if !empty && !site {
        bail!(
            "{} is not empty and is not a site undersign publish wrote (no index.html and {}); \
             choose another --out",
            out.display(),
            BUNDLE_FILE
        );
    }
    Ok(())
}

/// The first line of the bundle at `path`, parsed.
fn read_header(path: &Path) -> Result<(BundleHeader, PetitionFile)> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut line = Vec::new();
    std::io::Read::take(BufReader::new(file), MAX_HEADER_BYTES as u64 + 1)
        .read_until(b'\n', &mut line)?;
    // Parsed as the audit parses it (`SPEC.md` §10: one JSON object, never the array form).
    let header: BundleHeader = undersign_registry::json::from_slice(&line)
        .with_context(|| format!("bundle {}: header", path.display()))?;
    let petition = PetitionFile::parse(header.petition_file.clone().into_bytes())
        .with_context(|| format!("bundle {}: petition", path.display()))?;
    Ok((header, petition))
}

/// Copies `from` to `dir/name`, readable by everyone (a site is public; the source may be a
/// 0600 file), and flushes it to disk.
fn copy_file(from: &Path, dir: &Path, name: &str) -> Result<()> {
    let path = dir.join(name);
    std::fs::copy(from, &path).with_context(|| format!("copying {}", from.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("setting the permissions of {}", path.display()))?;
    }
    std::fs::File::open(&path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Writes `bytes` to `dir/name`, readable by everyone (`0644`, whatever the umask), and
/// flushes it to disk.
fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o644);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("setting the permissions of {}", path.display()))?;
    }
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// Refuses inputs inside `out`: replacing the site would remove them (no command writes over
/// its own inputs).
fn refuse_inputs_inside(out: &Path, inputs: &[&Path]) -> Result<()> {
    let Ok(out_real) = std::fs::canonicalize(out) else {
        return Ok(());
    };
    for input in inputs {
        if let Ok(real) = std::fs::canonicalize(input) {
            ensure!(
                !real.starts_with(&out_real),
                "{} is inside --out {}, which publishing would replace; publish to another \
                 directory",
                input.display(),
                out.display()
            );
        }
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// How the audit command pins the verifying key.
pub enum Pin<'a> {
    /// Not at all.
    None,
    /// `--vk-hash HASH`.
    Hash(&'a str),
    /// `--ceremony ceremony/`: the published transcript.
    Ceremony,
}

/// The command that audits the published files, run in the site's directory.
pub fn audit_command(registrar_key: &str, pin: Pin<'_>, registry: bool) -> String {
    let mut command = format!("undersign audit {BUNDLE_FILE} --registrar-key {registrar_key}");
    match pin {
        Pin::None => {}
        Pin::Hash(hash) => command.push_str(&format!(" --vk-hash {hash}")),
        Pin::Ceremony => command.push_str(&format!(" --ceremony {CEREMONY_DIR}/")),
    }
    if registry {
        command.push_str(&format!(" --registry {REGISTRY_FILE}"));
    }
    command
}

/// Audits `request.bundle` and, if it is fully valid, writes the site to `request.out`.
pub(crate) fn write_site(request: &SiteRequest<'_>) -> Result<SiteOutcome> {
    let out = request.out;
    refuse_existing(out, request.force)?;
    let mut inputs = vec![request.bundle];
    inputs.extend(request.registry.map(|(_, path)| path));
    inputs.extend(request.ceremony.as_ref().map(|(_, dir)| *dir));
    inputs.extend(request.web_auditor);
    refuse_inputs_inside(out, &inputs)?;
    if let Some(worker) = request.web_auditor {
        let meta = std::fs::metadata(worker)
            .with_context(|| format!("--web-auditor {}", worker.display()))?;
        ensure!(
            meta.is_file() && meta.len() > 0,
            "--web-auditor {}: not a non-empty file (build it with `npm run build:web` in \
             verifiers/js)",
            worker.display()
        );
    }
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
    // Removed when dropped, so a refusal or an error leaves nothing.
    let staging = tempfile::Builder::new()
        .prefix(".undersign-publish-")
        .tempdir_in(&parent)
        .with_context(|| format!("creating a directory in {}", parent.display()))?;
    let site = staging.path();

    // Copy first, audit the copy: what is published is exactly what was audited.
    let bundle = site.join(BUNDLE_FILE);
    copy_file(request.bundle, site, BUNDLE_FILE)?;
    let report = workflow::audit_file(&bundle, &request.options, &mut |_| {})
        .with_context(|| format!("auditing {}", request.bundle.display()))?;
    if !report.valid {
        return Ok(SiteOutcome::Refused(Box::new(report)));
    }
    let (header, petition) = read_header(&bundle)?;

    let mut page = PetitionPage::from_report(&report, &petition);
    let mut downloads = vec![
        (DownloadKind::Bundle, BUNDLE_FILE),
        (DownloadKind::Petition, PETITION_FILE),
    ];
    write_file(site, PETITION_FILE, petition.bytes())?;
    if let Some((registry, path)) = request.registry {
        ensure!(
            registry.id() == &petition.registry(),
            "--registry {} is registry {}, but the petition is on registry {}",
            path.display(),
            hex::encode(registry.id()),
            hex::encode(petition.registry())
        );
        let sets = report::anonymity_sets(&report, registry);
        for (group, set) in page.groups.iter_mut().zip(&sets) {
            group.anonymity_set = Some(set.anonymity_set);
        }
        copy_file(path, site, REGISTRY_FILE)?;
        downloads.push((DownloadKind::Registry, REGISTRY_FILE));
    }
    let vk_bytes = hex::decode(&header.verifying_key)
        .map_err(|e| anyhow!("bundle header: verifying_key: {e}"))?;
    write_file(site, VERIFYING_KEY_FILE, &vk_bytes)?;
    downloads.push((DownloadKind::VerifyingKey, VERIFYING_KEY_FILE));
    write_file(
        site,
        REPORT_FILE,
        format!("{}\n", report::to_json(&report, None)?).as_bytes(),
    )?;
    downloads.push((DownloadKind::Report, REPORT_FILE));
    let pin = if let Some((ceremony, dir)) = &request.ceremony {
        let target = site.join(CEREMONY_DIR);
        std::fs::create_dir(&target).with_context(|| format!("creating {}", target.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))
                .with_context(|| format!("setting the permissions of {}", target.display()))?;
        }
        for (file, kind) in [
            (PHASE1_FILE, DownloadKind::CeremonyPhase1),
            (PHASE2_FILE, DownloadKind::CeremonyPhase2),
        ] {
            copy_file(&dir.join(file), &target, file)?;
            downloads.push((kind, file));
        }
        page.ceremony = Some(ceremony.clone());
        Pin::Ceremony
    } else {
        match request.options.pinned_vk_hash.as_deref() {
            Some(hash) => Pin::Hash(hash),
            None => Pin::None,
        }
    };
    page.audit_command = audit_command(&page.registrar_key, pin, request.registry.is_some());
    write_file(
        site,
        COMMAND_FILE,
        format!("{}\n", page.audit_command).as_bytes(),
    )?;
    downloads.push((DownloadKind::Command, COMMAND_FILE));
    page.downloads = downloads
        .into_iter()
        .map(|(kind, name)| {
            let href = match kind {
                DownloadKind::CeremonyPhase1 | DownloadKind::CeremonyPhase2 => {
                    format!("{CEREMONY_DIR}/{name}")
                }
                _ => name.to_owned(),
            };
            Download {
                kind,
                href,
                file_name: Some(name.to_owned()),
            }
        })
        .collect();

    let browser_verify = request.web_auditor.is_some();
    if let Some(worker) = request.web_auditor {
        copy_file(worker, site, WORKER_FILE)?;
        write_file(site, VERIFY_SCRIPT_FILE, VERIFY_SCRIPT.as_bytes())?;
    }
    let mut page_bytes = 0;
    for (i, lang) in request.langs.iter().enumerate() {
        let html = render_petition_with(&page, *lang, &LangLinks::Files, None, browser_verify);
        page_bytes = page_bytes.max(html.len());
        write_file(site, &static_file_name(*lang), html.as_bytes())?;
        if i == 0 {
            write_file(site, "index.html", html.as_bytes())?;
        }
        if browser_verify {
            let files = VerifyPageFiles {
                bundle: BUNDLE_FILE.to_owned(),
                report: REPORT_FILE.to_owned(),
                worker: WORKER_FILE.to_owned(),
                script: VERIFY_SCRIPT_FILE.to_owned(),
                tally_page: static_file_name(*lang),
            };
            let verify = render_verify(&page, *lang, &files);
            write_file(site, &verify_file_name(*lang), verify.as_bytes())?;
            if i == 0 {
                write_file(site, "verify.html", verify.as_bytes())?;
            }
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(site, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("setting the permissions of {}", site.display()))?;
    }
    sync_dir(site)?;

    // Into place: rename the staging directory over `out` (an empty or, with --force, an
    // old site is moved aside first and removed after).
    refuse_existing(out, request.force)?;
    let old = if std::fs::symlink_metadata(out).is_ok() {
        let aside = tempfile::Builder::new()
            .prefix(".undersign-old-site-")
            .tempdir_in(&parent)
            .with_context(|| format!("creating a directory in {}", parent.display()))?;
        let aside_path = aside.path().join("site");
        std::fs::rename(out, &aside_path)
            .with_context(|| format!("moving the old {} aside", out.display()))?;
        Some(aside)
    } else {
        None
    };
    let staged = staging.keep();
    if let Err(e) = std::fs::rename(&staged, out) {
        // Put the old site back; the new one is removed.
        if let Some(old) = &old {
            let _ = std::fs::rename(old.path().join("site"), out);
        }
        let _ = std::fs::remove_dir_all(&staged);
        return Err(e).with_context(|| format!("moving the site to {}", out.display()));
    }
    sync_dir(&parent)?;
    drop(old);
    Ok(SiteOutcome::Published {
        index: out.join("index.html"),
        report: Box::new(report),
        page_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_is_written_the_chosen_one_first() {
        assert_eq!(ordered_langs(None).ok(), Some(LANGS.to_vec()));
        assert_eq!(
            ordered_langs(Some("ru")).ok(),
            Some(vec![Lang::Ru, Lang::En, Lang::Be])
        );
        assert!(ordered_langs(Some("xx")).is_err());
    }

    #[test]
    fn the_audit_command_names_the_published_files() {
        assert_eq!(
            audit_command("ab", Pin::Hash("cd"), true),
            "undersign audit bundle.jsonl --registrar-key ab --vk-hash cd --registry registry.json"
        );
        assert_eq!(
            audit_command("ab", Pin::None, false),
            "undersign audit bundle.jsonl --registrar-key ab"
        );
        assert_eq!(
            audit_command("ab", Pin::Ceremony, false),
            "undersign audit bundle.jsonl --registrar-key ab --ceremony ceremony/"
        );
    }

    #[test]
    fn an_existing_directory_is_replaced_only_when_empty_or_forced() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = dir.path().join("site");
        assert!(refuse_existing(&out, false).is_ok());
        std::fs::create_dir(&out).unwrap_or_else(|e| panic!("{e}"));
        assert!(refuse_existing(&out, false).is_ok());
        std::fs::write(out.join("x"), b"x").unwrap_or_else(|e| panic!("{e}"));
        assert!(refuse_existing(&out, false).is_err());
        // Not a site: never replaced, even with --force.
        assert!(refuse_existing(&out, true).is_err());
        for name in ["index.html", BUNDLE_FILE] {
            std::fs::write(out.join(name), b"x").unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(refuse_existing(&out, false).is_err());
        assert!(refuse_existing(&out, true).is_ok());
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap_or_else(|e| panic!("{e}"));
        assert!(refuse_existing(&file, true).is_err());
    }
}
