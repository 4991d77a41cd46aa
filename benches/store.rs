//! Micro-benchmarks of the store path: chunking, framing (zstd) and put_blob.
//! `cargo bench --bench store`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mailvault::{BlobKind, Chunking, Repository, split};

fn text(len: usize) -> Vec<u8> {
    // Mail-like: words with some random tokens; compresses about 2:1.
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        let v = seed.wrapping_mul(0x2545_F491_4F6C_DD1D);
        let word = b"the quick brown fox jumps over lazy dog mail vault message header body ";
        let start = (v % 60) as usize;
        out.extend_from_slice(&word[start..start + 8]);
        if v.is_multiple_of(5) {
            out.extend_from_slice(format!("{:x} ", v >> 20).as_bytes());
        }
    }
    out.truncate(len);
    out
}

fn benches(c: &mut Criterion) {
    let data = text(8 << 20);
    let mut g = c.benchmark_group("chunk");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("cdc_default", |b| {
        b.iter(|| split(black_box(&data), Chunking::CDC_DEFAULT).len())
    });
    g.bench_function("blake3", |b| b.iter(|| blake3::hash(black_box(&data))));
    g.finish();

    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&dir.path().join("r")).unwrap();
    let msgs: Vec<Vec<u8>> = (0..64).map(|i| text(20_000 + i * 100)).collect();
    let total: usize = msgs.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("put");
    g.throughput(Throughput::Bytes(total as u64));
    let mut round = 0u64;
    g.bench_function("put_blob_20k_messages", |b| {
        b.iter(|| {
            round += 1;
            for m in &msgs {
                let mut m = m.clone();
                m.extend_from_slice(&round.to_le_bytes());
                repo.put_blob(BlobKind::Data, &m).unwrap();
            }
        })
    });
    g.finish();
}

criterion_group!(store, benches);
criterion_main!(store);
