//! `mailvault key list|add|remove|passwd`: the keys of an encrypted repository.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde_json::json;

use super::render::Renderer;
use super::{EXIT_OK, Global};

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// List the keys: password slots of the master key and put-only keys issued.
    List,
    /// Add a password for the master key, or write a key file (`--output`): a put-only key
    /// for the mail server (`--put-only`) or the master key to keep offline.
    Add(AddArgs),
    /// Remove a key by id (or 4+ hex digits of it): a password, or a put-only key (which this
    /// tool then refuses).
    Remove(RemoveArgs),
    /// Change the password that unlocked the repository.
    Passwd(PasswdArgs),
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Write a key file here (created new, mode 0600) instead of adding a password.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The key file holds a put-only key: it backs up and replicates (seals new data,
    /// deduplicates) but cannot read, restore, forget or prune.
    #[arg(long, requires = "output")]
    pub put_only: bool,
    /// A note shown by `key list` (e.g. which server holds the key).
    #[arg(long, default_value = "")]
    pub label: String,
    /// Read the new password from this file (default: $MAILVAULT_NEW_PASSWORD, else a prompt).
    #[arg(long, value_name = "PATH")]
    pub new_password_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The key's id, or at least 4 hex digits of it.
    pub id: String,
}

#[derive(Debug, Args)]
pub struct PasswdArgs {
    /// Read the new password from this file (default: $MAILVAULT_NEW_PASSWORD, else a prompt).
    #[arg(long, value_name = "PATH")]
    pub new_password_file: Option<PathBuf>,
}

fn new_password(file: Option<PathBuf>) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let ask = super::password_source(file, "MAILVAULT_NEW_PASSWORD", "new password: ", true);
    let p = zeroize::Zeroizing::new(ask()?);
    if p.is_empty() {
        anyhow::bail!("the new password is empty");
    }
    Ok(p)
}

pub fn run(global: &Global, cmd: KeyCommand) -> anyhow::Result<ExitCode> {
    let out = Renderer::new(global.json);
    match cmd {
        KeyCommand::List => {
            let repo = super::open_repo(global)?;
            let keys = repo.key_list()?;
            if global.json {
                for k in &keys {
                    let mut v = serde_json::to_value(k)?;
                    v["type"] = "key".into();
                    out.json_line(&v);
                }
            } else {
                for k in &keys {
                    let when = humantime::format_rfc3339_seconds(
                        std::time::UNIX_EPOCH
                            + std::time::Duration::from_nanos(k.created_ns.max(0) as u64),
                    );
                    outln!(
                        "{}{}  {:<18} {}  {}  {}",
                        &k.id[..16],
                        if k.current { "*" } else { " " },
                        k.kind,
                        when,
                        k.host,
                        k.label
                    );
                }
            }
        }
        KeyCommand::Add(args) => {
            let repo = super::open_repo(global)?;
            let id = match &args.output {
                Some(path) => repo.key_add_file(path, args.put_only, &args.label)?,
                None => {
                    let p = new_password(args.new_password_file)?;
                    repo.key_add_password(&p, &args.label, default_kdf())?
                }
            };
            let kind = match (&args.output, args.put_only) {
                (Some(_), true) => "put-only key file",
                (Some(_), false) => "master key file",
                (None, _) => "password",
            };
            if global.json {
                out.json_line(&json!({"type": "key_added", "id": id, "kind": kind,
                                      "output": args.output}));
            } else {
                match &args.output {
                    Some(p) => outln!("added {kind} {} ({})", &id[..16], p.display()),
                    None => outln!("added {kind} {}", &id[..16]),
                }
            }
        }
        KeyCommand::Remove(args) => {
            let repo = super::open_repo(global)?;
            let id = repo.key_remove(&args.id)?;
            if global.json {
                out.json_line(&json!({"type": "key_removed", "id": id}));
            } else {
                outln!("removed key {}", &id[..16]);
            }
        }
        KeyCommand::Passwd(args) => {
            let repo = super::open_repo(global)?;
            let p = new_password(args.new_password_file)?;
            let id = repo.key_passwd(&p, default_kdf())?;
            if global.json {
                out.json_line(&json!({"type": "key_passwd", "id": id}));
            } else {
                outln!("password changed (new key {})", &id[..16]);
            }
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}

/// Argon2id cost of new passwords.
fn default_kdf() -> mailvault::Argon2Params {
    mailvault::Argon2Params::default()
}
