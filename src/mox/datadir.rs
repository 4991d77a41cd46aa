//! The layout of a mox data directory: where the config and data live, the configured accounts,
//! the message path scheme, and how each file is classified for backup.

use std::path::{Path, PathBuf};

use super::MoxError;

/// The global databases at the top of the data directory.
pub const GLOBAL_DBS: &[&str] = &[
    "auth.db",
    "dmarcrpt.db",
    "dmarceval.db",
    "mtasts.db",
    "tlsrpt.db",
    "tlsrptresult.db",
];

/// The queue database, relative to the data directory.
pub const QUEUE_DB: &str = "queue/index.db";

/// mox stores 2^13 message files per directory (`store.MsgFilesPerDirShiftSet(13)`).
const MSG_FILES_PER_DIR_SHIFT: u32 = 13;
const DIR_ALPHABET: &[u8; 64] = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

/// The path of message `id` below `msg/` (accounts) or `queue/`: "a/1", "b/8192", "Wb/1000000".
/// The directory is `id >> 13` in base 64, least significant digit first.
pub fn message_path(id: i64) -> String {
    let mut v = (id as u64) >> MSG_FILES_PER_DIR_SHIFT;
    let mut dir = String::new();
    loop {
        dir.push(char::from(DIR_ALPHABET[(v % 64) as usize]));
        v /= 64;
        if v == 0 {
            break;
        }
    }
    format!("{dir}/{id}")
}

/// The message id of a path of the form [`message_path`] produces, if it is one exactly.
pub fn parse_message_path(rel: &str) -> Option<i64> {
    let (_, name) = rel.split_once('/')?;
    let id: i64 = name.parse().ok()?;
    (id > 0 && message_path(id) == rel).then_some(id)
}

/// A mox installation to read: config dir (if known), data dir, configured accounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The directory holding `mox.conf` and `domains.conf`, when known.
    pub config_dir: Option<PathBuf>,
    pub data_dir: PathBuf,
    /// Configured accounts (the `Accounts:` section of domains.conf); without a config, the
    /// directories under `accounts/`. Sorted.
    pub accounts: Vec<String>,
    /// Whether `accounts` came from domains.conf.
    pub accounts_configured: bool,
}

impl Source {
    /// Finds the installation from a `mox.conf` path, a directory holding `config/mox.conf`
    /// (or `mox.conf`), or a data directory (whose config is found when it is the sibling
    /// `config/` directory of quickstart's layout and its `DataDir` points back).
    pub fn locate(path: &Path) -> Result<Source, MoxError> {
        let meta = std::fs::metadata(path).map_err(|e| MoxError::io(path, e))?;
        if meta.is_file() {
            return Source::from_mox_conf(path);
        }
        for candidate in [path.join("config/mox.conf"), path.join("mox.conf")] {
            if candidate.is_file() {
                return Source::from_mox_conf(&candidate);
            }
        }
        let looks_like_data = path.join("accounts").is_dir()
            || path.join(QUEUE_DB).is_file()
            || GLOBAL_DBS.iter().any(|db| path.join(db).is_file());
        if !looks_like_data {
            return Err(MoxError::Config {
                path: path.to_path_buf(),
                what: "neither a mox.conf, a directory holding config/mox.conf, nor a mox data \
                       directory (no accounts/, queue/index.db or global databases)"
                    .into(),
            });
        }
        // quickstart's layout: config/ next to data/. Use that config if it points here.
        if let Some(parent) = path.parent() {
            let conf = parent.join("config/mox.conf");
            if conf.is_file()
                && let Ok(s) = Source::from_mox_conf(&conf)
            {
                let same = match (s.data_dir.canonicalize(), path.canonicalize()) {
                    (Ok(a), Ok(b)) => a == b,
                    _ => false,
                };
                if same {
                    return Ok(Source {
                        data_dir: path.to_path_buf(),
                        ..s
                    });
                }
            }
        }
        let accounts = account_dirs(path)?;
        Ok(Source {
            config_dir: None,
            data_dir: path.to_path_buf(),
            accounts,
            accounts_configured: false,
        })
    }

    /// Reads `DataDir` from mox.conf (relative to its directory, as mox resolves it) and the
    /// accounts from the domains.conf next to it.
    pub fn from_mox_conf(conf: &Path) -> Result<Source, MoxError> {
        // Any file may be given as a source by mistake: say what is expected instead.
        let not_mox_conf = || MoxError::Config {
            path: conf.to_path_buf(),
            what: "not a mox.conf (it has no DataDir line): give mox.conf, the directory \
                   holding config/mox.conf, or the data directory (any other directory is \
                   backed up as a plain tree)"
                .into(),
        };
        let text = match std::fs::read_to_string(conf) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => return Err(not_mox_conf()),
            Err(e) => return Err(MoxError::io(conf, e)),
        };
        let data = top_level_value(&text, "DataDir").ok_or_else(not_mox_conf)?;
        let config_dir = conf
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let config_dir = if config_dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            config_dir
        };
        let data_dir = clean(&config_dir.join(data));
        let domains = config_dir.join("domains.conf");
        let (accounts, configured) = match std::fs::read_to_string(&domains) {
            Ok(t) => (configured_accounts(&t), true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (account_dirs(&data_dir)?, false),
            Err(e) => return Err(MoxError::io(domains, e)),
        };
        Ok(Source {
            config_dir: Some(config_dir),
            data_dir,
            accounts,
            accounts_configured: configured,
        })
    }

    /// `<data>/accounts/<name>`.
    pub fn account_dir(&self, name: &str) -> PathBuf {
        self.data_dir.join("accounts").join(name)
    }

    /// The control socket, `<data>/ctl`.
    pub fn ctl_socket(&self) -> PathBuf {
        self.data_dir.join("ctl")
    }
}

/// Removes `.` and `name/..` pairs lexically, as Go's `filepath.Join` does for mox's DataDir.
fn clean(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if matches!(out.last(), Some(Component::Normal(_))) => {
                out.pop();
            }
            _ => out.push(c),
        }
    }
    if out.is_empty() {
        return PathBuf::from(".");
    }
    out.iter().collect()
}

/// Directories under `<data>/accounts`, sorted; none if it does not exist.
fn account_dirs(data: &Path) -> Result<Vec<String>, MoxError> {
    let dir = data.join("accounts");
    let rd = match std::fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(MoxError::io(dir, e)),
    };
    let mut out = Vec::new();
    for e in rd {
        let e = e.map_err(|e| MoxError::io(&dir, e))?;
        if e.file_type()
            .map_err(|err| MoxError::io(e.path(), err))?
            .is_dir()
        {
            out.push(e.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    Ok(out)
}

/// The value of an unindented `Key: value` line of an sconf file.
fn top_level_value<'t>(text: &'t str, key: &str) -> Option<&'t str> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(key)?.strip_prefix(':')?;
        Some(rest.trim())
    })
}

/// The account names of the `Accounts:` section of domains.conf (sconf: one tab per level).
fn configured_accounts(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_accounts = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if !line.starts_with('\t') {
            in_accounts = line.trim_end() == "Accounts:";
            continue;
        }
        if in_accounts && !line.starts_with("\t\t") {
            let name = line.trim();
            let name = name.strip_suffix(':').unwrap_or(name);
            if !name.is_empty() {
                out.push(name.to_string());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Checks that an account name can be the directory `accounts/<name>`: one plain path
/// component (not empty, `.` or `..`, no `/` or NUL). Names from domains.conf and from
/// snapshots pass through here before they become paths.
pub fn check_account_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(
            "the name cannot be a directory name (empty, `.`, `..`, or holds `/`)".to_string(),
        );
    }
    Ok(())
}

/// What a file in the data directory is, as the reference backup (`mox backup`) sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileClass {
    /// One of [`GLOBAL_DBS`].
    GlobalDb,
    /// `queue/index.db`.
    QueueDb,
    /// `queue/<dir>/<id>`.
    QueueMessage(i64),
    /// `accounts/<account>/index.db` of a configured account.
    AccountDb {
        account: String,
    },
    JunkDb {
        account: String,
    },
    JunkBloom {
        account: String,
    },
    /// `accounts/<account>/msg/<dir>/<id>` of a configured account.
    AccountMessage {
        account: String,
        id: i64,
    },
    ReceivedIdKey,
    /// Under `acme/`.
    Acme,
    /// Never backed up: `tmp/` and the `ctl` socket.
    Skipped,
    LastKnownVersion,
    MoxVersion,
    /// Anything else, including files of accounts that are not configured: copied as is.
    Other,
}

/// Classifies a path relative to the data dir ("/"-separated) as the reference backup does.
pub fn classify(rel: &str, source: &Source) -> FileClass {
    let rel = rel.trim_start_matches("./");
    if GLOBAL_DBS.contains(&rel) {
        return FileClass::GlobalDb;
    }
    match rel {
        QUEUE_DB => return FileClass::QueueDb,
        "receivedid.key" => return FileClass::ReceivedIdKey,
        "ctl" => return FileClass::Skipped,
        "lastknownversion" => return FileClass::LastKnownVersion,
        "moxversion" => return FileClass::MoxVersion,
        _ => {}
    }
    if rel.starts_with("tmp/") || rel == "tmp" {
        return FileClass::Skipped;
    }
    if rel.starts_with("acme/") {
        return FileClass::Acme;
    }
    if let Some(q) = rel.strip_prefix("queue/") {
        return match parse_message_path(q) {
            Some(id) => FileClass::QueueMessage(id),
            None => FileClass::Other,
        };
    }
    if let Some(a) = rel.strip_prefix("accounts/")
        && let Some((account, rest)) = a.split_once('/')
    {
        if !source.accounts.iter().any(|x| x == account) {
            return FileClass::Other;
        }
        let account = account.to_string();
        return match rest {
            "index.db" => FileClass::AccountDb { account },
            "junkfilter.db" => FileClass::JunkDb { account },
            "junkfilter.bloom" => FileClass::JunkBloom { account },
            _ => match rest.strip_prefix("msg/").and_then(parse_message_path) {
                Some(id) => FileClass::AccountMessage { account, id },
                None => FileClass::Other,
            },
        };
    }
    FileClass::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_paths_match_mox() {
        for (id, p) in [
            (1, "a/1"),
            (8191, "a/8191"),
            (8192, "b/8192"),
            (516096, "_/516096"),
            (524288, "ab/524288"),
            (1000000, "Wb/1000000"),
        ] {
            assert_eq!(message_path(id), p);
            assert_eq!(parse_message_path(p), Some(id));
        }
        assert_eq!(parse_message_path("b/1"), None);
        assert_eq!(parse_message_path("a/01"), None);
        assert_eq!(parse_message_path("a/x"), None);
    }

    #[test]
    fn accounts_section_of_domains_conf() {
        let t = "Domains:\n\texample.org:\n\t\tX: y\nAccounts:\n\tbob:\n\t\tDomain: example.org\n\t\tDestinations:\n\t\t\tbob@example.org: nil\n\t# comment\n\talice:\n\t\tDomain: example.org\nWebDomainRedirects:\n\tfoo: bar\n";
        assert_eq!(configured_accounts(t), vec!["alice", "bob"]);
        assert_eq!(
            top_level_value("# x\nDataDir: ../data\n", "DataDir"),
            Some("../data")
        );
    }

    #[test]
    fn data_dir_is_cleaned() {
        assert_eq!(
            clean(Path::new("/x/config/../data")),
            PathBuf::from("/x/data")
        );
        assert_eq!(clean(Path::new("config/./../data")), PathBuf::from("data"));
        assert_eq!(clean(Path::new("../data")), PathBuf::from("../data"));
        assert_eq!(clean(Path::new("./.")), PathBuf::from("."));
    }

    #[test]
    fn classification() {
        let s = Source {
            config_dir: None,
            data_dir: "d".into(),
            accounts: vec!["alice".into()],
            accounts_configured: true,
        };
        assert_eq!(classify("auth.db", &s), FileClass::GlobalDb);
        assert_eq!(classify("queue/index.db", &s), FileClass::QueueDb);
        assert_eq!(classify("queue/a/3", &s), FileClass::QueueMessage(3));
        assert_eq!(classify("queue/b/3", &s), FileClass::Other);
        assert_eq!(
            classify("accounts/alice/msg/a/7", &s),
            FileClass::AccountMessage {
                account: "alice".into(),
                id: 7
            }
        );
        assert_eq!(
            classify("accounts/alice/index.db", &s),
            FileClass::AccountDb {
                account: "alice".into()
            }
        );
        assert_eq!(classify("accounts/zed/index.db", &s), FileClass::Other);
        assert_eq!(classify("tmp/x", &s), FileClass::Skipped);
        assert_eq!(classify("ctl", &s), FileClass::Skipped);
        assert_eq!(classify("acme/keycerts/x", &s), FileClass::Acme);
        assert_eq!(classify("moxversion", &s), FileClass::MoxVersion);
        assert_eq!(
            classify("lastknownversion", &s),
            FileClass::LastKnownVersion
        );
        assert_eq!(classify("receivedid.key", &s), FileClass::ReceivedIdKey);
        assert_eq!(classify("moved/x", &s), FileClass::Other);
    }
}
