//! What the packages ship besides the binary: the man pages and shell completions in
//! packaging/eden.data are the binary's own, and the README's install lines name the packages
//! the workspace builds. (`scripts/check-packages` builds the wheel and installs it.)

// A test stops at the first surprise.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::Path;
use std::process::Command;

use support::{free_port, lint, wait_for, workspace};

const SHARE: &str = "packaging/eden.data/data/share";

fn eden(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_eden"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "eden {args:?} failed");
    out.stdout
}

fn shipped(path: &str) -> Vec<u8> {
    std::fs::read(workspace().join(SHARE).join(path))
        .unwrap_or_else(|e| panic!("{SHARE}/{path}: {e}; run scripts/package-assets"))
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn the_shipped_man_pages_and_completions_are_the_binarys_own() {
    let fresh = tempfile::tempdir().unwrap();
    eden(&["man", fresh.path().to_str().unwrap()]);
    let committed = workspace().join(SHARE).join("man/man1");
    let pages = names_in(fresh.path());
    assert!(pages.contains(&"eden-create.1".to_string()), "{pages:?}");
    assert_eq!(
        pages,
        names_in(&committed),
        "run scripts/package-assets after changing a command"
    );
    for page in &pages {
        let made = std::fs::read(fresh.path().join(page)).unwrap();
        assert!(
            made == shipped(&format!("man/man1/{page}")),
            "{page} is stale: run scripts/package-assets"
        );
    }
    for (shell, path) in [
        ("bash", "bash-completion/completions/eden"),
        ("zsh", "zsh/site-functions/_eden"),
        ("fish", "fish/vendor_completions.d/eden.fish"),
    ] {
        assert!(
            eden(&["completions", shell]) == shipped(path),
            "{path} is stale: run scripts/package-assets"
        );
    }
}

fn files_in(dir: &str) -> Vec<String> {
    names_in(&workspace().join(dir))
        .into_iter()
        .map(|name| format!("{dir}/{name}"))
        .collect()
}

#[test]
fn every_workflow_passes_actionlint_and_every_shell_script_shellcheck() {
    let workflows = files_in(".github/workflows");
    assert!(workflows.len() >= 2, "{workflows:?}");
    lint("actionlint", &workflows);
    let scripts: Vec<String> = ["scripts", "bench", "packaging", ".ci"]
        .iter()
        .flat_map(|dir| files_in(dir))
        .filter(|file| {
            let text = std::fs::read_to_string(workspace().join(file)).unwrap_or_default();
            text.starts_with("#!/usr/bin/env bash") || text.starts_with("#!/bin/sh")
        })
        .collect();
    assert!(
        scripts.contains(&"packaging/install.sh".to_string()),
        "{scripts:?}"
    );
    lint("shellcheck", &scripts);
}

/// The release workflow builds what the README and docs/releasing.md promise, with the same
/// archive and installer the tests here use.
#[test]
fn the_release_workflow_builds_every_promised_artifact() {
    let release =
        std::fs::read_to_string(workspace().join(".github/workflows/release.yml")).unwrap();
    for needed in [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        ".2.17",
        "packaging/archive",
        "packaging/install.sh dist/eden-installer.sh",
        "SHA256SUMS",
        "PyO3/maturin-action",
        "command: sdist",
        "pypa/gh-action-pypi-publish",
        "cargo publish --workspace --locked",
        "docker/build-push-action",
        "linux/amd64,linux/arm64",
        "eden-lambda-x86_64.zip",
    ] {
        assert!(
            release.contains(needed),
            "the release workflow lacks {needed}"
        );
    }
}

#[test]
fn the_readmes_install_lines_name_the_packages_the_workspace_builds() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let pyproject = std::fs::read_to_string(workspace().join("pyproject.toml")).unwrap();
    let cli = std::fs::read_to_string(workspace().join("crates/eden-cli/Cargo.toml")).unwrap();
    let name_in = |toml: &str| {
        toml.lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .map(|rest| rest.trim_end_matches('"').to_string())
            .unwrap()
    };
    let (wheel, krate) = (name_in(&pyproject), name_in(&cli));
    assert!(
        readme.contains(&format!("pip install {wheel}")),
        "the README does not install the wheel {wheel}"
    );
    assert!(
        readme.contains(&format!("cargo install --locked {krate}")),
        "the README does not install the crate {krate}"
    );
}

/// A local stand-in for the GitHub releases page, serving `dir` over loopback.
struct Releases {
    server: std::process::Child,
    url: String,
}

impl Releases {
    fn serve(dir: &Path) -> Self {
        let port = free_port();
        let server = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1"])
            .arg(port.to_string())
            .arg("--directory")
            .arg(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_for(port, "the releases page");
        Self {
            server,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Releases {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

/// Runs packaging/install.sh against `releases` into `home`.
fn install(releases: &Releases, home: &Path, version: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new("sh");
    cmd.arg(workspace().join("packaging/install.sh"))
        .env("HOME", home)
        .env("EDEN_DOWNLOAD_URL", &releases.url)
        .env_remove("EDEN_INSTALL_DIR");
    match version {
        Some(v) => cmd.env("EDEN_VERSION", v),
        None => cmd.env_remove("EDEN_VERSION"),
    };
    cmd.output().unwrap()
}

/// The release workflow's archive (packaging/archive) of this machine's binary, installed by the
/// README's installer from a local releases page: the binary runs and the man pages are there; a
/// pinned version is fetched from its own folder; an archive that does not match its SHA-256
/// installs nothing.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn the_installer_installs_the_release_archive_and_refuses_a_corrupt_one() {
    let site = tempfile::tempdir().unwrap();
    let latest = site.path().join("latest/download");
    let pinned = site.path().join("download/v0.2.0");
    for dir in [&latest, &pinned] {
        let made = Command::new(workspace().join("packaging/archive"))
            .args(["x86_64-unknown-linux-gnu", env!("CARGO_BIN_EXE_eden")])
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
    }
    let releases = Releases::serve(site.path());

    for version in [None, Some("v0.2.0")] {
        let home = tempfile::tempdir().unwrap();
        let out = install(&releases, home.path(), version);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(said.contains("Installed eden "), "{said}");
        let eden = home.path().join(".local/bin/eden");
        let version = Command::new(&eden).arg("--version").output().unwrap();
        assert!(String::from_utf8_lossy(&version.stdout).starts_with("eden "));
        assert!(home
            .path()
            .join(".local/share/man/man1/eden-create.1")
            .is_file());
    }

    let sums = latest.join("eden-x86_64-unknown-linux-gnu.tar.gz.sha256");
    let sum = std::fs::read_to_string(&sums).unwrap();
    let flipped = match sum.chars().next() {
        Some('0') => format!("1{}", &sum[1..]),
        _ => format!("0{}", &sum[1..]),
    };
    std::fs::write(&sums, flipped).unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = install(&releases, home.path(), None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("does not match its SHA-256"), "{err}");
    assert!(!home.path().join(".local/bin/eden").exists());
}

/// The README's `eden config setup` command, run as written (its continued lines joined), gives a
/// profile that `config check` finds complete; then `iam-policy`, whose reader goes away before
/// it writes (`eden iam-policy -p api | head`), ends quietly and well, as do the completions.
#[test]
fn the_readmes_setup_works_as_written_and_a_closed_pipe_is_no_panic() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let mut lines = readme
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("eden config setup"));
    let mut setup = String::new();
    for line in lines.by_ref() {
        let line = line.trim();
        match line.strip_suffix('\\') {
            Some(continued) => setup.push_str(continued),
            None => {
                setup.push_str(line);
                break;
            }
        }
    }
    let home = tempfile::tempdir().unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_eden")).parent().unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let run = |command: &str| {
        Command::new("sh")
            .args(["-c", command])
            .env("HOME", home.path())
            .env("PATH", &path)
            .env_remove("EDEN_CONFIG")
            .output()
            .unwrap()
    };
    let set_up = run(&setup);
    assert!(
        set_up.status.success(),
        "{setup}: {}",
        String::from_utf8_lossy(&set_up.stderr)
    );
    let checked = run("eden config check -p api");
    assert!(
        String::from_utf8_lossy(&checked.stdout).contains("No errors found"),
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );
    for args in [&["iam-policy", "-p", "api"][..], &["completions", "bash"]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_eden"))
            .args(args)
            .env("HOME", home.path())
            .env_remove("EDEN_CONFIG")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before eden writes.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "eden {args:?}: {err}");
        assert!(out.status.success(), "eden {args:?}: {err}");
    }
}
