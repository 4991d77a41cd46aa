//! `mailvault init <REPO>`: creates a repository.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use super::render::Renderer;
use super::{EXIT_OK, Global};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to create the repository: a new or empty directory, or `s3://BUCKET/PREFIX` (an
    /// existing bucket, nothing under the prefix); default: --repo.
    pub path: Option<PathBuf>,
    /// Create an encrypted repository: everything sealed (XChaCha20-Poly1305, X25519), the
    /// master key protected by the password ($MAILVAULT_PASSWORD, --password-file, or a
    /// prompt). Add a put-only key for the mail server with `key add --put-only`.
    #[arg(long)]
    pub encrypt: bool,
}

pub fn run(global: &Global, args: InitArgs) -> anyhow::Result<ExitCode> {
    let path = match args.path {
        Some(p) => p,
        None => super::repo_path(&global.repo)?,
    };
    let repo = if args.encrypt {
        let ask = global
            .unlock
            .password
            .as_ref()
            .expect("the CLI always has a password source");
        let password = zeroize::Zeroizing::new(ask()?);
        if password.is_empty() {
            anyhow::bail!("the password is empty");
        }
        let spec = path
            .to_str()
            .ok_or_else(|| anyhow::anyhow!("{}: not a UTF-8 path", path.display()))?;
        mailvault::Repository::init_encrypted(spec, &password)?
    } else {
        match super::remote_spec(&Some(path.clone())) {
            Some(url) => mailvault::Repository::init_url(&url)?,
            None => mailvault::Repository::init(&path)?,
        }
    };
    let out = Renderer::new(global.json);
    if global.json {
        out.json_line(&json!({"type": "init", "repo": repo.path(),
                              "encrypted": repo.is_encrypted()}));
    } else if repo.is_encrypted() {
        outln!(
            "created encrypted repository at {}\nkeep its password safe: without it (or a master \
             key file from `key add --output`), nothing in it can be read",
            repo.path().display()
        );
    } else {
        outln!("created repository at {}", repo.path().display());
    }
    Ok(ExitCode::from(EXIT_OK))
}
