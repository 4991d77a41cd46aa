//! Damaged databases: thousands of mutated copies of the fixture databases (truncations, bit
//! flips, garbage pages, forged page headers and element offsets, page cycles, forged meta
//! pages) go through the bbolt reader, the bstore decoder and the typed account and queue views.
//! Each must give a result or an error naming the file and page: never a panic or a hang.

mod common;

use std::path::{Path, PathBuf};

use mailvault::mox::read_queue;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use mailvault::mox::{AccountDb, Bolt, Bucket, MoxError, Store, Value, queue_messages};

/// A small deterministic generator (splitmix64), so a failing case can be replayed by number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn edge_u32(&mut self) -> u32 {
        match self.below(6) {
            0 => 0,
            1 => u32::MAX,
            2 => self.below(64) as u32,
            3 => 4096 + self.below(64) as u32,
            4 => (self.next() as u32) & 0xffff,
            _ => self.next() as u32,
        }
    }
}

const PS: usize = 4096;

fn le_u16(d: &[u8], off: usize) -> u16 {
    u16::from_le_bytes([d[off], d[off + 1]])
}

fn put_u32(d: &mut [u8], off: usize, v: u32) {
    d[off..off + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(d: &mut [u8], off: usize, v: u64) {
    d[off..off + 8].copy_from_slice(&v.to_le_bytes());
}

fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Applies one mutation; returns its name.
fn mutate(rng: &mut Rng, d: &mut Vec<u8>, used_pages: usize) -> &'static str {
    let used = used_pages.min(d.len() / PS);
    if used < 3 {
        // Too little left for page-level damage (after a truncation).
        if !d.is_empty() {
            let off = rng.below(d.len() as u64) as usize;
            d[off] ^= 1 << rng.below(8);
        }
        return "tiny-bit-flip";
    }
    let page = |rng: &mut Rng| 2 + rng.below(used as u64 - 2) as usize;
    match rng.below(11) {
        0 => {
            let n = rng.below(d.len() as u64) as usize;
            d.truncate(n);
            "truncate"
        }
        1 => {
            let n = rng.below(used as u64) as usize * PS;
            d.truncate(n);
            "truncate-page"
        }
        2 => {
            for _ in 0..1 + rng.below(8) {
                let off = rng.below((used * PS) as u64) as usize;
                d[off] ^= 1 << rng.below(8);
            }
            "bit-flips"
        }
        3 => {
            let p = page(rng);
            for b in &mut d[p * PS..(p + 1) * PS] {
                *b = rng.next() as u8;
            }
            "garbage-page"
        }
        4 => {
            let p = page(rng);
            d[p * PS..(p + 1) * PS].fill(0);
            "zero-page"
        }
        5 => {
            let p = page(rng) * PS;
            match rng.below(4) {
                0 => put_u64(d, p, rng.below(used as u64 + 4)),
                1 => d[p + 8..p + 10].copy_from_slice(&(rng.next() as u16).to_le_bytes()),
                2 => d[p + 10..p + 12].copy_from_slice(&(rng.next() as u16).to_le_bytes()),
                _ => {
                    let v = rng.edge_u32();
                    put_u32(d, p + 12, v)
                }
            }
            "page-header"
        }
        6 => {
            // An element's offsets or sizes (pos/ksize/vsize, or a branch's child id).
            let p = page(rng) * PS;
            let count = le_u16(d, p + 10) as u64;
            let e = p + 16 + 16 * rng.below(count.clamp(1, 200)) as usize;
            if e + 16 <= d.len() {
                let field = rng.below(4) as usize * 4;
                let v = rng.edge_u32();
                put_u32(d, e + field, v);
            }
            "element"
        }
        7 => {
            // Point a branch element at another page: its own, the root's, anything.
            let p = page(rng);
            let off = p * PS;
            if le_u16(d, off + 8) == 0x01 {
                let count = le_u16(d, off + 10) as u64;
                let e = off + 16 + 16 * rng.below(count.max(1)) as usize;
                let target = match rng.below(3) {
                    0 => p as u64,
                    1 => rng.below(used as u64),
                    _ => rng.below(used as u64 * 2),
                };
                put_u64(d, e + 8, target);
                "branch-redirect"
            } else {
                let off = rng.below((used * PS) as u64) as usize;
                d[off] = !d[off];
                "byte-invert"
            }
        }
        8 => {
            // Copy a page over another and fix its id: structurally valid, logically wrong.
            let (a, b) = (page(rng), page(rng));
            let src = d[a * PS..(a + 1) * PS].to_vec();
            d[b * PS..(b + 1) * PS].copy_from_slice(&src);
            put_u64(d, b * PS, b as u64);
            "page-copy"
        }
        9 => {
            let n = 1 + rng.below(64) as usize;
            let off = rng.below((used * PS - n) as u64) as usize;
            for b in &mut d[off..off + n] {
                *b = rng.next() as u8;
            }
            "byte-run"
        }
        _ => {
            // Forge the meta pages: a valid checksum over a bad root, high-water mark or page
            // size, so the damage gets past meta validation.
            for m in 0..2 {
                let off = m * PS + 16;
                match rng.below(4) {
                    0 => put_u64(d, off + 16, rng.below(used as u64 * 2)),
                    1 => put_u64(d, off + 40, rng.next() >> rng.below(64)),
                    2 => put_u32(d, off + 8, 512 << rng.below(6)),
                    _ => put_u64(d, off + 16, rng.next()),
                }
                let sum = fnv1a64(&d[off..off + 56]);
                put_u64(d, off + 56, sum);
            }
            "forged-meta"
        }
    }
}

/// Every bucket, both directions and as a page-dropping stream, to a bounded depth.
fn walk(b: Bucket<'_>, depth: usize) -> Result<usize, MoxError> {
    let mut n = 0;
    let mut data = Vec::new();
    for e in b.iter() {
        let (k, v) = e?;
        n += 1;
        match v {
            Value::Bucket(sub) => {
                if depth < 4 {
                    n += walk(sub, depth + 1)?;
                }
            }
            Value::Data(v) => data.push((k, v)),
        }
    }
    // The stream sees the same data entries as the cursor.
    let mut s = b.stream();
    let mut i = 0;
    while let Some(same) = s.next_with(|_, k, v| data.get(i) == Some(&(k, v)))? {
        assert!(same, "stream and cursor disagree at entry {i}");
        i += 1;
    }
    assert_eq!(
        i,
        data.len(),
        "stream and cursor see different entry counts"
    );
    let mut c = b.cursor();
    let mut e = c.last()?;
    while e.is_some() {
        e = c.prev()?;
    }
    Ok(n)
}

/// Reads everything a backup would read. Returns the number of items seen.
fn exercise(path: &Path, data: Vec<u8>, kind: DbKind) -> Result<usize, MoxError> {
    exercise_bolt(Bolt::from_bytes(path.to_path_buf(), data)?, kind)
}

fn exercise_bolt(bolt: Bolt, kind: DbKind) -> Result<usize, MoxError> {
    let mut n = walk(bolt.root(), 0)?;
    {
        let store = Store::new(&bolt);
        for t in store.type_names()? {
            for r in store.records(&t)? {
                r?;
                n += 1;
            }
            store.sequence(&t)?;
        }
    }
    match kind {
        DbKind::Account => {
            let db = AccountDb::from_bolt(bolt);
            db.sync_state()?;
            for mb in db.mailboxes()? {
                db.max_message_modseq(mb.id)?;
                n += db.changed_since(mb.id, 0)?.len();
            }
            n += db.messages()?.len();
            db.message(1)?;
            db.message_erase_ids()?;
            db.message_sequence()?;
        }
        DbKind::Queue => n += queue_messages(&bolt)?.len(),
        DbKind::Other => {}
    }
    Ok(n)
}

#[derive(Clone, Copy, Debug)]
enum DbKind {
    Account,
    Queue,
    Other,
}

#[derive(Default, Debug)]
struct Tally {
    cases: usize,
    ok: usize,
    page_errors: usize,
    record_errors: usize,
}

fn fuzz_db(rel: &str, kind: DbKind, cases: usize, seed: u64, progress: &AtomicUsize) -> Tally {
    let dir = common::extract_fixture("small-state2");
    let original = std::fs::read(dir.path().join("data").join(rel)).unwrap();
    let name = PathBuf::from(format!("fuzz/{rel}"));
    let pristine = Bolt::from_bytes(name.clone(), original.clone()).unwrap();
    let used = pristine.page_count() as usize;
    let baseline = exercise(&name, original.clone(), kind).unwrap();
    assert!(baseline > 0);
    let mut tally = Tally::default();
    for case in 0..cases {
        let mut rng = Rng(seed.wrapping_mul(1_000_003).wrapping_add(case as u64));
        let mut data = original.clone();
        let mut what = Vec::new();
        for _ in 0..1 + rng.below(3) {
            what.push(mutate(&mut rng, &mut data, used));
        }
        progress.fetch_add(1, Ordering::Relaxed);
        let r = std::panic::catch_unwind(|| exercise(&name, data, kind));
        let r = r.unwrap_or_else(|_| panic!("{rel} case {case} ({what:?}) panicked"));
        tally.cases += 1;
        match r {
            Ok(_) => tally.ok += 1,
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with(&format!("fuzz/{rel}: ")),
                    "{rel} case {case} ({what:?}): error does not name the file: {msg}"
                );
                match e {
                    MoxError::Page { .. } => tally.page_errors += 1,
                    MoxError::Record { .. } => tally.record_errors += 1,
                    other => panic!("{rel} case {case} ({what:?}): unexpected error {other}"),
                }
                assert!(
                    msg.contains("page "),
                    "{rel} case {case} ({what:?}): error does not name the page: {msg}"
                );
            }
        }
    }
    tally
}

#[test]
fn mutated_databases_never_panic_or_hang() {
    let progress = Arc::new(AtomicUsize::new(0));
    let p = progress.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let plan: [(&str, DbKind, usize); 5] = [
            ("accounts/alice/index.db", DbKind::Account, 1500),
            ("accounts/carol/index.db", DbKind::Account, 1500),
            ("queue/index.db", DbKind::Queue, 1500),
            ("accounts/alice/junkfilter.db", DbKind::Other, 500),
            ("auth.db", DbKind::Other, 500),
        ];
        let mut out = Vec::new();
        for (i, (rel, kind, cases)) in plan.into_iter().enumerate() {
            out.push((rel, fuzz_db(rel, kind, cases, i as u64 + 1, &p)));
        }
        tx.send(out).unwrap();
    });
    // A hang shows up as no progress for a long time; report where.
    let mut last = 0;
    let results = loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(r) => break r,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let now = progress.load(Ordering::Relaxed);
                assert!(now > last, "no progress for 60 s: hang at case #{now}");
                last = now;
            }
            Err(e) => panic!("fuzz thread died: {e}"),
        }
    };
    let mut total = Tally::default();
    for (rel, t) in &results {
        // The mutations must reach the structures: most cases fail, some decode fine.
        assert!(
            t.page_errors + t.record_errors > t.cases / 3,
            "{rel}: {t:?}"
        );
        total.cases += t.cases;
        total.ok += t.ok;
        total.page_errors += t.page_errors;
        total.record_errors += t.record_errors;
    }
    eprintln!("{results:?}");
    assert_eq!(total.cases, 5500);
    assert!(total.page_errors > 1000, "{total:?}");
    assert!(total.record_errors > 50, "{total:?}");
}

#[test]
fn every_truncation_of_a_small_database_is_handled() {
    let dir = common::extract_fixture("small-state1");
    let rel = "queue/index.db";
    let original = std::fs::read(dir.path().join("data").join(rel)).unwrap();
    let name = PathBuf::from(rel);
    let used = Bolt::from_bytes(name.clone(), original.clone())
        .unwrap()
        .page_count() as usize;
    // Every page boundary and a spread of odd lengths up to the used size.
    let mut lens: Vec<usize> = (0..=used).map(|p| p * PS).collect();
    lens.extend((0..used * PS).step_by(509));
    for len in lens {
        let r = exercise(
            &name,
            original[..len.min(original.len())].to_vec(),
            DbKind::Queue,
        );
        if len < used * PS {
            let e = r.expect_err(&format!("truncated to {len} bytes but read fine"));
            let msg = e.to_string();
            assert!(
                msg.starts_with("queue/index.db: ") && msg.contains("page "),
                "{msg}"
            );
        }
    }
}

/// Real record values, mutated, through the value decoder (full and projected): a result or an
/// error, never a panic.
#[test]
fn mutated_record_values_decode_or_fail_cleanly() {
    use mailvault::mox::{decode_record, decode_record_fields};
    let dir = common::extract_fixture("small-state2");
    let data = dir.path().join("data");
    let mut cases = 0;
    let mut errors = 0;
    for (rel, types) in [
        (
            "accounts/alice/index.db",
            &["Message", "Mailbox", "SyncState"][..],
        ),
        ("queue/index.db", &["Msg"][..]),
    ] {
        let bolt = Bolt::open(&data.join(rel)).unwrap();
        let store = Store::new(&bolt);
        for t in types {
            let schema = store.schema(t).unwrap();
            let names: Vec<&str> = schema.latest().fields()[1..]
                .iter()
                .map(|f| &*f.name)
                .collect();
            let only: Vec<&str> = names.iter().copied().step_by(3).collect();
            let mut values = Vec::new();
            for e in store.records_bucket(t).unwrap().iter() {
                if let (_, Value::Data(v)) = e.unwrap() {
                    decode_record(&schema, v).unwrap();
                    values.push(v.to_vec());
                }
            }
            assert!(!values.is_empty());
            let mut rng = Rng(0x5eed ^ cases as u64);
            for case in 0..4000 {
                let mut v = values[rng.below(values.len() as u64) as usize].clone();
                match rng.below(5) {
                    0 => v.truncate(rng.below(v.len() as u64) as usize),
                    1 => {
                        for _ in 0..1 + rng.below(4) {
                            let i = rng.below(v.len() as u64) as usize;
                            v[i] ^= 1 << rng.below(8);
                        }
                    }
                    2 => {
                        let i = rng.below(v.len() as u64 + 1) as usize;
                        let junk: Vec<u8> =
                            (0..1 + rng.below(8)).map(|_| rng.next() as u8).collect();
                        v.splice(i..i, junk);
                    }
                    3 => {
                        // Huge counts and lengths.
                        let i = rng.below(v.len() as u64) as usize;
                        v.splice(i..i, [0xff, 0xff, 0xff, 0xff, 0x07]);
                    }
                    _ => v[0] = rng.next() as u8,
                }
                let full = std::panic::catch_unwind(|| decode_record(&schema, &v));
                let part = std::panic::catch_unwind(|| decode_record_fields(&schema, &v, &only));
                let (full, part) = match (full, part) {
                    (Ok(f), Ok(p)) => (f, p),
                    _ => panic!("{rel} {t} case {case}: decoder panicked on {v:02x?}"),
                };
                // Skipping checks what it skips: both agree on whether the value is valid.
                assert_eq!(full.is_ok(), part.is_ok(), "{rel} {t} case {case}");
                if let Err(e) = full {
                    assert!(!e.is_empty());
                    errors += 1;
                }
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 16000);
    assert!(errors > cases / 2, "{errors} errors in {cases} cases");
}

mod properties {
    use mailvault::mox::{int64_from_key, int64_key, message_path, parse_message_path};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn message_paths_round_trip(id in 1i64..=i64::MAX) {
            let p = message_path(id);
            prop_assert_eq!(parse_message_path(&p), Some(id));
            let suffix = format!("/{}", id);
            prop_assert!(p.ends_with(&suffix));
        }

        #[test]
        fn keys_sort_like_integers(a in any::<i64>(), b in any::<i64>()) {
            prop_assert_eq!(a.cmp(&b), int64_key(a).cmp(&int64_key(b)));
            prop_assert_eq!(int64_from_key(&int64_key(a)), Some(a));
        }
    }
}

/// The file-backed reader (pages read on demand with positioned reads) on mutated files.
#[test]
fn mutated_files_read_lazily_fail_cleanly() {
    let dir = common::extract_fixture("small-state1");
    let tmp = tempfile::tempdir().unwrap();
    let mut errors = 0;
    for (i, (rel, kind)) in [
        ("accounts/bob/index.db", DbKind::Account),
        ("queue/index.db", DbKind::Queue),
    ]
    .into_iter()
    .enumerate()
    {
        let original = std::fs::read(dir.path().join("data").join(rel)).unwrap();
        let used = Bolt::from_bytes(rel.into(), original.clone())
            .unwrap()
            .page_count() as usize;
        for case in 0..300 {
            let mut rng = Rng(0xf11e + case + 1000 * i as u64);
            let mut data = original.clone();
            let what = mutate(&mut rng, &mut data, used);
            let file = tmp.path().join(format!("{i}-{case}.db"));
            std::fs::write(&file, &data).unwrap();
            let r = std::panic::catch_unwind(|| {
                let bolt = Bolt::open_lazy_named(&file, PathBuf::from(rel))?;
                let n = exercise_bolt(bolt, kind)?;
                // The typed entry points that open files themselves.
                match kind {
                    DbKind::Account => {
                        AccountDb::open(&file)?.messages()?;
                    }
                    _ => {
                        read_queue(&file)?;
                    }
                }
                Ok::<usize, MoxError>(n)
            });
            match r.unwrap_or_else(|_| panic!("{rel} case {case} ({what}) panicked")) {
                Ok(_) => {}
                Err(e) => {
                    let msg = e.to_string();
                    assert!(msg.contains("page "), "{rel} case {case} ({what}): {msg}");
                    errors += 1;
                }
            }
            std::fs::remove_file(&file).unwrap();
        }
    }
    assert!(errors > 150, "{errors} errors in 600 cases");
}
