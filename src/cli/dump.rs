//! `mailvault dump <SNAPSHOT> --account A --mailbox M --uid N [--output FILE]`: one message as
//! mox stores it (`MsgPrefix` and the file).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{EXIT_OK, Global, SnapshotSelect};

#[derive(Debug, Args)]
pub struct DumpArgs {
    /// `latest`, a snapshot id, or a unique prefix of one.
    pub snapshot: String,
    #[arg(long)]
    pub account: String,
    /// The mailbox (`INBOX` in any letter case).
    #[arg(long)]
    pub mailbox: String,
    /// The message's UID in the mailbox (`find` and `ls SNAPSHOT ACCOUNT/MAILBOX` show it).
    #[arg(long)]
    pub uid: u32,
    /// Write to this new file (mode 0600) instead of standard output.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub select: SnapshotSelect,
}

pub fn run(global: &Global, args: DumpArgs) -> anyhow::Result<ExitCode> {
    let repo = super::open_repo(global)?;
    let id = args.select.resolve(&repo, &args.snapshot)?;
    let snap = repo.load_snapshot(&id)?;
    let data = mailvault::message_content(&repo, &snap, &args.account, &args.mailbox, args.uid)?;
    match &args.output {
        Some(path) => {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::File::options()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
                .open(path)
                .map_err(|e| anyhow::anyhow!("{}: cannot create: {e}", path.display()))?;
            f.write_all(&data)
                .and_then(|()| f.sync_all())
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            if global.json {
                super::render::Renderer::new(true).json_line(&serde_json::json!({
                    "type": "summary",
                    "snapshot": id.to_hex(),
                    "output": path,
                    "bytes": data.len(),
                }));
            }
        }
        None => {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(&data).and_then(|()| out.flush())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                anyhow::bail!("cannot write to standard output: {e}");
            }
        }
    }
    Ok(ExitCode::from(EXIT_OK))
}
