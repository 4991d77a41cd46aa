//! A repository in S3-compatible object storage (AWS S3, B2, R2, Wasabi, MinIO, Ceph RGW,
//! Garage, SeaweedFS), through the `object_store` crate: the [`Backend`] operations map to one
//! request each (LIST, HEAD, GET, ranged GET, PUT with `If-None-Match: *`, DELETE).
//!
//! Endpoint, region and credentials come from the usual AWS variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`, `AWS_ENDPOINT_URL`,
//! `AWS_ALLOW_HTTP=true` for a plain-http server, and the container/web-identity variables).
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
