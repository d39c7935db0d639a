//! Encode, decode and message-ID cost of a typical message: the draft's
//! "original" example (193 bytes, a one-line Markdown text) and its largest
//! example, the nested "multipart-3" (716 bytes, 11 parts).
//!
//! Run: `cargo bench -p mimi-content`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mimi_content::franking::FrankingTag;
use mimi_content::{ContentBuilder, MimiContent, ReceivedContent, Salt};

const ORIGINAL: &[u8] = include_bytes!("../test_vectors/original.cbor");
const MULTIPART_3: &[u8] = include_bytes!("../test_vectors/multipart-3.cbor");

fn bench_message(c: &mut Criterion, name: &str, bytes: &'static [u8]) {
    let decoded = MimiContent::decode(bytes).expect("vector decodes");
    let received = ReceivedContent::decode(bytes).expect("vector decodes");
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("decode", |b| {
        b.iter(|| MimiContent::decode(black_box(bytes)))
    });
    group.bench_function("encode", |b| b.iter(|| black_box(&decoded).encode()));
    group.bench_function("message_id", |b| {
        b.iter(|| black_box(&received).message_id())
    });
    group.bench_function("franking_tag", |b| {
        b.iter(|| FrankingTag::compute(&decoded.salt, black_box(bytes)))
    });
    group.bench_function("decode+message_id", |b| {
        b.iter(|| {
            ReceivedContent::decode(black_box(bytes))
                .map(|r| r.message_id())
                .map(|_| ())
        })
    });
    group.finish();
}

fn bench_build(c: &mut Criterion) {
    let salt = Salt::from_bytes([7; 16]);
    c.bench_function("build/markdown", |b| {
        b.iter(|| {
            ContentBuilder::new(
                "mimi://example.com/u/alice-smith",
                "mimi://example.com/r/engineering_team",
            )
            .salt(salt)
            .markdown(black_box(
                "Hi everyone, we just shipped release 2.0. __Good  work__!",
            ))
        })
    });
}

fn benches(c: &mut Criterion) {
    bench_message(c, "original", ORIGINAL);
    bench_message(c, "multipart-3", MULTIPART_3);
    bench_build(c);
}

criterion_group!(codec, benches);
criterion_main!(codec);
