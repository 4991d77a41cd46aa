//! A repository in S3-compatible object storage (AWS S3, B2, R2, Wasabi, MinIO, Ceph RGW,
//! Garage, SeaweedFS), through the `object_store` crate: the [`Backend`] operations map to one
//! request each (LIST, HEAD, GET, ranged GET, PUT with `If-None-Match: *`, DELETE).
//!
//! Endpoint, region and credentials come from the usual AWS variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT_URL`,
//! `AWS_ALLOW_HTTP=true` for a plain-http server, and the container/web-identity variables),
//! and, for what they leave out, from the profile of the AWS shared files.
//! Transient failures (timeouts, 5xx, throttling) are retried with exponential backoff by the
//! client. Every request and every byte is counted for the summaries.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjPath;
use object_store::{
    BackoffConfig, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, RetryConfig,
};

use super::backend::{Backend, ObjectMeta, TransferStats};

/// Where an `s3://BUCKET/PREFIX` URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    /// Without leading or trailing slashes; empty for the bucket's root.
    pub prefix: String,
}

impl S3Url {
    /// Parses `s3://BUCKET[/PREFIX]`; `None` when `s` is not an `s3://` URL.
    pub fn parse(s: &str) -> Option<Result<S3Url, String>> {
        let rest = s.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Some(Err(format!("{s}: no bucket: give s3://BUCKET/PREFIX")));
        }
        let prefix = prefix.trim_matches('/').to_string();
        if prefix.split('/').any(|p| p == "." || p == "..") {
            return Some(Err(format!("{s}: the prefix may not contain . or ..")));
        }
        Some(Ok(S3Url {
            bucket: bucket.to_string(),
            prefix,
        }))
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.prefix.is_empty() {
            true => write!(f, "s3://{}", self.bucket),
            false => write!(f, "s3://{}/{}", self.bucket, self.prefix),
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    requests: AtomicU64,
    sent: AtomicU64,
    received: AtomicU64,
}

/// A repository under a prefix of a bucket.
pub struct S3Backend {
    url: S3Url,
    store: Arc<AmazonS3>,
    runtime: tokio::runtime::Runtime,
    counters: Counters,
}

impl fmt::Debug for S3Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S3Backend({})", self.url)
    }
}

fn to_io(e: object_store::Error) -> io::Error {
    use object_store::Error as E;
    let text = e.to_string();
    let kind = match &e {
        // A missing bucket is not a missing object: it must not read as "no repository here".
        E::NotFound { .. } if text.contains("NoSuchBucket") => io::ErrorKind::Other,
        E::NotFound { .. } => io::ErrorKind::NotFound,
        E::AlreadyExists { .. } | E::Precondition { .. } => io::ErrorKind::AlreadyExists,
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => io::ErrorKind::PermissionDenied,
        _ => io::ErrorKind::Other,
    };
    match explain(&text) {
        Some(what) => io::Error::new(kind, format!("{what} ({text})")),
        None => io::Error::new(kind, text),
    }
}

/// Settings from the AWS shared files for what the environment does not set: credentials from
/// `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`) and region and endpoint from
/// `AWS_CONFIG_FILE` (default `~/.aws/config`), in the profile `AWS_PROFILE` (default
/// `default`). Keys as `AmazonS3ConfigKey` names.
fn profile_settings(env: &dyn Fn(&str) -> Option<String>) -> Vec<(&'static str, String)> {
    let home = env("HOME").map(std::path::PathBuf::from);
    let file = |var: &str, name: &str| {
        env(var)
            .map(std::path::PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
    };
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".to_string());
    let read = |path: Option<std::path::PathBuf>, section: &str| -> Vec<(String, String)> {
        path.and_then(|p| std::fs::read_to_string(p).ok())
            .map(|text| ini_section(&text, section))
            .unwrap_or_default()
    };
    let credentials = read(file("AWS_SHARED_CREDENTIALS_FILE", "credentials"), &profile);
    // In the config file, profiles other than the default are `[profile NAME]`.
    let config_section = match profile.as_str() {
        "default" => "default".to_string(),
        p => format!("profile {p}"),
    };
    let config = read(file("AWS_CONFIG_FILE", "config"), &config_section);
    let wanted: [(&str, &str, &'static str, bool); 5] = [
        (
            "AWS_ACCESS_KEY_ID",
            "aws_access_key_id",
            "aws_access_key_id",
            true,
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            "aws_secret_access_key",
            "aws_secret_access_key",
            true,
        ),
        (
            "AWS_SESSION_TOKEN",
            "aws_session_token",
            "aws_session_token",
            true,
        ),
        ("AWS_REGION", "region", "aws_region", false),
        (
            "AWS_ENDPOINT_URL",
            "endpoint_url",
            "aws_endpoint_url",
            false,
        ),
    ];
    let mut out = Vec::new();
    // Credentials come from the environment or the file, never half from each.
    let env_has_keys = env("AWS_ACCESS_KEY_ID").is_some();
    for (var, key, setting, secret) in wanted {
        if env(var).is_some() || (secret && env_has_keys) {
            continue;
        }
        if var == "AWS_REGION" && env("AWS_DEFAULT_REGION").is_some() {
            continue;
        }
        let from = if secret { &credentials } else { &config };
        if let Some((_, v)) = from.iter().find(|(k, _)| k == key) {
            out.push((setting, v.clone()));
        }
    }
    out
}

/// The `key = value` pairs of `[section]` of an INI text (`#` and `;` comments).
fn ini_section(text: &str, section: &str) -> Vec<(String, String)> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = name.trim() == section;
            continue;
        }
        if inside && let Some((k, v)) = line.split_once('=') {
            out.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    out
}

/// One sentence for the store's answers an operator meets first.
fn explain(text: &str) -> Option<&'static str> {
    let known: [(&str, &'static str); 7] = [
        ("NoSuchBucket", "the bucket does not exist: create it first"),
        (
            "SignatureDoesNotMatch",
            "the store refused the credentials: check AWS_SECRET_ACCESS_KEY",
        ),
        (
            "InvalidAccessKeyId",
            "the store does not know the access key: check AWS_ACCESS_KEY_ID",
        ),
        (
            "AccessDenied",
            "the store denied the request (the credential or the bucket policy does not allow it)",
        ),
        (
            "Connection refused",
            "cannot connect to the store: check AWS_ENDPOINT_URL",
        ),
        (
            "error sending request",
            "cannot reach the store: check AWS_ENDPOINT_URL and the network",
        ),
        (
            "dns error",
            "cannot resolve the store's host name: check AWS_ENDPOINT_URL",
        ),
    ];
    known
        .iter()
        .find(|(needle, _)| text.contains(needle))
        .map(|(_, what)| *what)
}

impl S3Backend {
    /// Connects (lazily: no request is made here) with the configuration of the environment.
    pub fn from_env(url: &S3Url) -> io::Result<S3Backend> {
        S3Backend::with_config(url, &[])
    }

    /// Like [`S3Backend::from_env`], with settings given here taking precedence (keys as the
    /// variables' names in lower case: `aws_endpoint_url`, `aws_access_key_id`, `aws_region`,
    /// `aws_allow_http`, ...).
    pub fn with_config(url: &S3Url, config: &[(&str, &str)]) -> io::Result<S3Backend> {
        let mut builder = AmazonS3Builder::from_env();
        // The shared credentials and config files fill in what the environment leaves out.
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        for (k, v) in profile_settings(&env) {
            let key: object_store::aws::AmazonS3ConfigKey = k
                .parse()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{k}: {e}")))?;
            builder = builder.with_config(key, v);
        }
        for (k, v) in config {
            let key: object_store::aws::AmazonS3ConfigKey = k
                .parse()
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{k}: {e}")))?;
            builder = builder.with_config(key, *v);
        }
        let store = builder
            .with_bucket_name(&url.bucket)
            .with_retry(RetryConfig {
                backoff: BackoffConfig {
                    init_backoff: Duration::from_millis(100),
                    max_backoff: Duration::from_secs(15),
                    base: 2.0,
                },
                max_retries: 8,
                retry_timeout: Duration::from_secs(180),
            })
            .build()
            .map_err(|e| io::Error::other(format!("{url}: {e}")))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        Ok(S3Backend {
            url: url.clone(),
            store: Arc::new(store),
            runtime,
            counters: Counters::default(),
        })
    }

    fn path(&self, name: &str) -> io::Result<ObjPath> {
        let full = match self.url.prefix.is_empty() {
            true => name.to_string(),
            false => format!("{}/{}", self.url.prefix, name),
        };
        ObjPath::parse(&full).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
    }

    fn count(&self, sent: usize, received: usize) {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        self.counters.sent.fetch_add(sent as u64, Ordering::Relaxed);
        self.counters
            .received
            .fetch_add(received as u64, Ordering::Relaxed);
    }

    fn listing(&self, dir: &str) -> io::Result<Vec<object_store::ObjectMeta>> {
        let prefix = self.path(dir)?;
        let store = self.store.clone();
        let result = self
            .runtime
            .block_on(async move { store.list_with_delimiter(Some(&prefix)).await });
        self.count(0, 0);
        Ok(result.map_err(to_io)?.objects)
    }
}

fn name_of(meta: &object_store::ObjectMeta) -> Option<String> {
    meta.location.filename().map(str::to_string)
}

impl Backend for S3Backend {
    fn list(&self, dir: &str) -> io::Result<Vec<String>> {
        let mut out: Vec<String> = self.listing(dir)?.iter().filter_map(name_of).collect();
        out.sort();
        Ok(out)
    }

    fn list_meta(&self, dir: &str) -> io::Result<Vec<ObjectMeta>> {
        let mut out: Vec<ObjectMeta> = self
            .listing(dir)?
            .iter()
            .filter_map(|m| {
                Some(ObjectMeta {
                    name: name_of(m)?,
                    size: m.size,
                    modified_ns: m.last_modified.timestamp_nanos_opt().unwrap_or(0),
                })
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    fn head(&self, name: &str) -> io::Result<Option<u64>> {
        let path = self.path(name)?;
        let store = self.store.clone();
        let result = self
            .runtime
            .block_on(async move { store.head(&path).await });
        self.count(0, 0);
        match result {
            Ok(m) => Ok(Some(m.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(to_io(e)),
        }
    }

    fn get(&self, name: &str) -> io::Result<Vec<u8>> {
        let path = self.path(name)?;
        let store = self.store.clone();
        let result = self.runtime.block_on(async move {
            let r = store.get(&path).await?;
            r.bytes().await
        });
        let bytes = result.map_err(to_io)?;
        self.count(0, bytes.len());
        Ok(bytes.to_vec())
    }

    fn get_range(&self, name: &str, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let path = self.path(name)?;
        let store = self.store.clone();
        let end = offset.saturating_add(len as u64);
        let result = self
            .runtime
            .block_on(async move { store.get_range(&path, offset..end).await });
        let bytes = result.map_err(to_io)?;
        self.count(0, bytes.len());
        Ok(bytes.to_vec())
    }

    fn put_new(&self, name: &str, data: &[u8]) -> io::Result<()> {
        self.put_new_bytes(name, bytes::Bytes::copy_from_slice(data))
    }

    fn put_new_bytes(&self, name: &str, data: bytes::Bytes) -> io::Result<()> {
        let path = self.path(name)?;
        let store = self.store.clone();
        let len = data.len();
        let payload = PutPayload::from(data);
        let opts = PutOptions {
            mode: PutMode::Create,
            ..PutOptions::default()
        };
        let result = self
            .runtime
            .block_on(async move { store.put_opts(&path, payload, opts).await });
        self.count(len, 0);
        result.map(|_| ()).map_err(to_io)
    }

    fn delete(&self, name: &str) -> io::Result<()> {
        let path = self.path(name)?;
        let store = self.store.clone();
        let result = self
            .runtime
            .block_on(async move { store.delete(&path).await });
        self.count(0, 0);
        match result {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(to_io(e)),
        }
    }

    fn transfer(&self) -> Option<TransferStats> {
        Some(TransferStats {
            requests: self.counters.requests.load(Ordering::Relaxed),
            bytes_sent: self.counters.sent.load(Ordering::Relaxed),
            bytes_received: self.counters.received.load(Ordering::Relaxed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_files_fill_in_what_the_environment_leaves_out() {
        let dir = tempfile::tempdir().unwrap();
        let aws = dir.path().join(".aws");
        std::fs::create_dir(&aws).unwrap();
        std::fs::write(
            aws.join("credentials"),
            "[default]\naws_access_key_id = AKDEF\naws_secret_access_key = sdef\n\n\
             [offsite]\n# the put-only key\naws_access_key_id=AKOFF\naws_secret_access_key = soff\n",
        )
        .unwrap();
        std::fs::write(
            aws.join("config"),
            "[default]\nregion = eu-west-1\n[profile offsite]\nregion = us-east-2\n\
             endpoint_url = https://s3.example.net\n",
        )
        .unwrap();
        let home = dir.path().to_str().unwrap().to_string();
        let env_of = |pairs: Vec<(&'static str, String)>| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        };
        let got = profile_settings(&env_of(vec![("HOME", home.clone())]));
        assert_eq!(
            got,
            vec![
                ("aws_access_key_id", "AKDEF".to_string()),
                ("aws_secret_access_key", "sdef".to_string()),
                ("aws_region", "eu-west-1".to_string()),
            ]
        );
        let got = profile_settings(&env_of(vec![
            ("HOME", home.clone()),
            ("AWS_PROFILE", "offsite".into()),
        ]));
        assert!(got.contains(&("aws_access_key_id", "AKOFF".to_string())));
        assert!(got.contains(&("aws_region", "us-east-2".to_string())));
        assert!(got.contains(&("aws_endpoint_url", "https://s3.example.net".to_string())));
        // Keys in the environment win, whole: nothing of the file's credentials is mixed in.
        let got = profile_settings(&env_of(vec![
            ("HOME", home),
            ("AWS_ACCESS_KEY_ID", "AKENV".into()),
            ("AWS_REGION", "ap-south-1".into()),
        ]));
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn common_answers_are_explained() {
        assert!(
            explain("... <Code>NoSuchBucket</Code> ...")
                .unwrap()
                .contains("bucket")
        );
        assert!(
            explain("403 SignatureDoesNotMatch")
                .unwrap()
                .contains("SECRET")
        );
        assert!(explain("all fine").is_none());
    }

    #[test]
    fn urls_parse() {
        let u = S3Url::parse("s3://bucket/a/b/").unwrap().unwrap();
        assert_eq!(u.bucket, "bucket");
        assert_eq!(u.prefix, "a/b");
        assert_eq!(u.to_string(), "s3://bucket/a/b");
        let u = S3Url::parse("s3://bucket").unwrap().unwrap();
        assert_eq!(u.prefix, "");
        assert!(S3Url::parse("/srv/repo").is_none());
        assert!(S3Url::parse("s3://").unwrap().is_err());
        assert!(S3Url::parse("s3://b/x/../y").unwrap().is_err());
    }
}
