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
}

pub fn run(global: &Global, args: InitArgs) -> anyhow::Result<ExitCode> {
    let path = match args.path {
        Some(p) => p,
        None => super::repo_path(&global.repo)?,
    };
    let repo = match super::remote_spec(&Some(path.clone())) {
        Some(url) => mailvault::Repository::init_url(&url)?,
        None => mailvault::Repository::init(&path)?,
    };
    let out = Renderer::new(global.json);
    if global.json {
        out.json_line(&json!({"type": "init", "repo": repo.path()}));
    } else {
        outln!("created repository at {}", repo.path().display());
    }
    Ok(ExitCode::from(EXIT_OK))
}
