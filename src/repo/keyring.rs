//! Key management of encrypted repositories: list, add (a password, a master key file, a
//! put-only key file), remove, change a password. The bytes are `repo::keys`'.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::id::BlobId;
use crate::repo::keys::{self, KeyBody, KeyFile};
use crate::repo::{Repository, lock, now_ns};

/// One key of a repository, as `key list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    /// The key's id (its file name in `REPO/keys/`).
    pub id: String,
    /// "master (password)" or "put-only".
    pub kind: &'static str,
    pub created_ns: i64,
    pub host: String,
    pub label: String,
    /// Whether this key unlocked the repository now.
    pub current: bool,
}

impl Repository {
    fn keys_or_plain(&self) -> Result<&keys::Keys> {
        self.keys().ok_or_else(|| {
            Error::Invalid(format!(
                "{}: the repository is not encrypted: it has no keys",
                self.path().display()
            ))
        })
    }

    fn master_secrets(&self, what: &str) -> Result<keys::MasterSecrets> {
        let k = self.keys_or_plain()?;
        k.master_secrets()
            .cloned()
            .ok_or_else(|| Error::PutOnly(format!("{}: {what}", self.path().display())))
    }

    /// The keys of an encrypted repository (any key may list them).
    pub fn key_list(&self) -> Result<Vec<KeyInfo>> {
        let current = self.keys_or_plain()?.slot().map(str::to_string);
        let mut out: Vec<KeyInfo> = keys::key_files(self.backend(), self.path())?
            .into_iter()
            .filter(|(_, k)| k.repo == self.config().id)
            .map(|(name, k)| KeyInfo {
                current: current.as_deref() == Some(name.as_str()),
                id: name["keys/".len()..].to_string(),
                kind: k.kind(),
                created_ns: k.created_ns,
                host: k.host,
                label: k.label,
            })
            .collect();
        out.sort_by(|a, b| a.created_ns.cmp(&b.created_ns).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    fn put_key_file(&self, file: &KeyFile, name_of: Option<BlobId>) -> Result<String> {
        let bytes = file.encode();
        let id = name_of.unwrap_or_else(|| BlobId::hash(&bytes)).to_hex();
        let name = format!("keys/{id}");
        self.backend()
            .put_new(&name, &bytes)
            .map_err(|e| Error::io(self.path().join(&name), e))?;
        Ok(id)
    }

    /// Adds a password that unlocks the master key (`key add`). Needs the master key.
    pub fn key_add_password(
        &self,
        password: &str,
        label: &str,
        kdf: keys::Argon2Params,
    ) -> Result<String> {
        let secrets = self.master_secrets("adding a key")?;
        if password.is_empty() {
            return Err(Error::Key("the password is empty".into()));
        }
        let repo = self.config().id;
        let file = KeyFile {
            repo,
            created_ns: now_ns(),
            host: lock::host(),
            label: label.to_string(),
            body: keys::password_slot(&secrets, &repo, password.as_bytes(), kdf)?,
        };
        self.put_key_file(&file, None)
    }

    /// Writes a key file to `output` (created new, mode 0600): a put-only key (recorded in the
    /// repository, so `key remove` can withdraw it) or the master key in the clear (to keep
    /// offline). Needs the master key. Returns the key's id.
    pub fn key_add_file(&self, output: &Path, put_only: bool, label: &str) -> Result<String> {
        let secrets = self.master_secrets("adding a key")?;
        let repo = self.config().id;
        let body = match put_only {
            true => KeyBody::Put(keys::put_secrets(&secrets)),
            false => KeyBody::Master(secrets),
        };
        let file = KeyFile {
            repo,
            created_ns: now_ns(),
            host: lock::host(),
            label: label.to_string(),
            body,
        };
        let bytes = file.encode();
        let id = BlobId::hash(&bytes);
        write_private_new(output, &bytes)?;
        if put_only {
            let record = KeyFile {
                body: KeyBody::PutRecord { key: id.0 },
                ..file
            };
            if let Err(e) = self.put_key_file(&record, Some(id)) {
                let _ = std::fs::remove_file(output);
                return Err(e);
            }
        }
        Ok(id.to_hex())
    }

    /// Removes a key (`key remove`, by id or a unique prefix of at least 4 hex digits): a
    /// password slot (never the last one) or the record of a put-only key (this build then
    /// refuses that key). Needs the master key.
    pub fn key_remove(&self, spec: &str) -> Result<String> {
        self.master_secrets("removing a key")?;
        let list = self.key_list()?;
        let spec = spec.trim().to_ascii_lowercase();
        if spec.len() < 4 {
            return Err(Error::Invalid(format!(
                "{spec:?}: give a key id or at least 4 hex digits of one"
            )));
        }
        let found: Vec<&KeyInfo> = list.iter().filter(|k| k.id.starts_with(&spec)).collect();
        let key = match found.as_slice() {
            [one] => *one,
            [] => return Err(Error::Invalid(format!("no key matches {spec:?}"))),
            _ => return Err(Error::Invalid(format!("{spec:?} matches several keys"))),
        };
        let masters = list.iter().filter(|k| k.kind.starts_with("master")).count();
        if key.kind.starts_with("master") && masters < 2 {
            return Err(Error::Invalid(
                "this is the repository's last password: add another one first (without it, \
                 nothing in the repository could ever be read again)"
                    .into(),
            ));
        }
        let name = format!("keys/{}", key.id);
        self.backend()
            .delete(&name)
            .map_err(|e| Error::io(self.path().join(&name), e))?;
        Ok(key.id.clone())
    }

    /// Changes the password that unlocked the repository (`key passwd`): a new slot first,
    /// then the old one removed. Returns the new slot's id.
    pub fn key_passwd(&self, new_password: &str, kdf: keys::Argon2Params) -> Result<String> {
        let Some(old) = self.keys_or_plain()?.slot().map(str::to_string) else {
            return Err(Error::Invalid(
                "the repository was not unlocked with a password: give the password to change"
                    .into(),
            ));
        };
        let id = self.key_add_password(new_password, "changed password", kdf)?;
        self.backend()
            .delete(&old)
            .map_err(|e| Error::io(self.path().join(&old), e))?;
        Ok(id)
    }
}

/// Creates `path` (which must not exist) with mode 0600 and `bytes`, durably.
fn write_private_new(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}
