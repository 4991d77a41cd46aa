//! Deterministic message contents: a seeded random source, text and base64 pools to cut bodies
//! from, RFC 5322 headers, mox-like delivery headers (MsgPrefix) and the parsed-structure JSON.

use crate::mox::gotime::Civil;

/// SplitMix64: small, fast, and the same on every platform.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x6a09_e667_f3bc_c908)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Log-uniform in `[lo, hi]`.
    pub(crate) fn log_uniform(&mut self, lo: u64, hi: u64) -> u64 {
        let (l, h) = ((lo.max(1)) as f64, (hi.max(lo + 1)) as f64);
        (l.ln() + self.unit() * (h.ln() - l.ln())).exp() as u64
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A base64url-ish token of `n` characters (mox's SMTP transaction ids look like this).
    pub(crate) fn token(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..n).map(|_| A[self.below(64) as usize] as char).collect()
    }

    pub(crate) fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from_digit(self.below(16) as u32, 16).unwrap_or('0'))
            .collect()
    }
}

const WORDS: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "for",
    "is",
    "on",
    "that",
    "with",
    "as",
    "we",
    "it",
    "be",
    "at",
    "this",
    "by",
    "from",
    "have",
    "or",
    "not",
    "are",
    "you",
    "your",
    "our",
    "will",
    "can",
    "backup",
    "server",
    "mail",
    "message",
    "report",
    "meeting",
    "budget",
    "review",
    "project",
    "deploy",
    "database",
    "latency",
    "storage",
    "network",
    "cluster",
    "invoice",
    "customer",
    "schedule",
    "update",
    "version",
    "migration",
    "ticket",
    "release",
    "quarterly",
    "support",
    "throughput",
    "postmortem",
    "design",
    "draft",
    "notes",
    "agenda",
    "team",
    "week",
    "today",
    "tomorrow",
    "please",
    "thanks",
    "regards",
    "question",
    "answer",
    "issue",
    "change",
    "plan",
    "after",
    "before",
    "because",
    "through",
    "between",
    "under",
    "again",
    "still",
    "maybe",
    "good",
    "new",
    "old",
    "first",
    "last",
    "long",
    "great",
    "little",
    "own",
    "other",
    "right",
    "big",
    "high",
    "different",
    "small",
    "large",
    "next",
    "early",
    "young",
    "important",
    "few",
    "public",
    "bad",
    "same",
    "able",
    "système",
    "café",
    "naïve",
    "über",
    "straße",
    "señor",
];

const FIRST: &[&str] = &[
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
    "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Akira", "Zoë",
    "José", "Müller",
];
const LAST: &[&str] = &[
    "Smith", "Jones", "Nakamura", "García", "Müller", "Dubois", "Rossi", "Novak", "Kowalski",
    "Jensen", "Silva", "Okafor", "Larsen", "Chen",
];
const DOMAINS: &[&str] = &[
    "university.example",
    "bank.example",
    "travel.example",
    "corp.example",
    "mail.example.net",
    "lists.example.com",
    "shop.example",
];
const SUBJECTS: &[&str] = &[
    "Quarterly report",
    "Meeting notes",
    "Reminder: database review tomorrow",
    "Invoice",
    "Backup failed on host",
    "Travel itinerary",
    "Release plan",
    "Résumé made – update",
    "Weekly digest",
    "Question about the migration",
    "Your order has shipped",
    "Postmortem: storage latency",
];

/// A correspondent.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub name: String,
    pub local: String,
    pub domain: String,
}

impl Person {
    pub(crate) fn random(rng: &mut Rng) -> Person {
        let first = rng.pick(FIRST);
        let last = rng.pick(LAST);
        let local: String = format!(
            "{}{}",
            first.chars().next().unwrap_or('x').to_ascii_lowercase(),
            last.to_lowercase()
        )
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
        Person {
            name: format!("{first} {last}"),
            local,
            domain: rng.pick(DOMAINS).to_string(),
        }
    }

    pub(crate) fn addr(&self) -> String {
        format!("{}@{}", self.local, self.domain)
    }
}

/// A random subject line.
pub(crate) fn subject(rng: &mut Rng) -> String {
    format!("{} {}", rng.pick(SUBJECTS), rng.below(100_000))
}

/// Pools to cut bodies from: text lines and base64 lines, both CRLF-terminated.
pub(crate) struct Pools {
    text: Vec<u8>,
    base64: Vec<u8>,
}

/// Length of the base64 pool: attachments larger than this repeat it.
const BASE64_POOL: usize = 8 << 20;
const TEXT_POOL: usize = 1 << 20;

impl Pools {
    pub(crate) fn new(rng: &mut Rng) -> Pools {
        let mut text = Vec::with_capacity(TEXT_POOL + 100);
        let mut line = 0;
        while text.len() < TEXT_POOL {
            let w = rng.pick(WORDS);
            if line + w.len() > 72 {
                text.extend_from_slice(if rng.chance(0.1) {
                    b".\r\n\r\n"
                } else {
                    b"\r\n"
                });
                line = 0;
            } else if line > 0 {
                text.push(b' ');
                line += 1;
            }
            text.extend_from_slice(w.as_bytes());
            line += w.len();
        }
        text.extend_from_slice(b"\r\n");
        let raw: Vec<u8> = (0..BASE64_POOL / 4 * 3 / 8 + 1)
            .flat_map(|_| rng.next_u64().to_le_bytes())
            .collect();
        let base64 = base64_lines(&raw);
        Pools { text, base64 }
    }

    /// About `len` bytes of whole text lines.
    pub(crate) fn text(&self, rng: &mut Rng, len: usize) -> &[u8] {
        cut_lines(&self.text, rng, len)
    }

    /// About `len` bytes of base64 lines.
    pub(crate) fn base64(&self, rng: &mut Rng, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 80);
        while out.len() < len {
            let want = (len - out.len()).min(self.base64.len() / 2);
            out.extend_from_slice(cut_lines(&self.base64, rng, want));
        }
        out
    }
}

fn cut_lines<'a>(pool: &'a [u8], rng: &mut Rng, len: usize) -> &'a [u8] {
    let len = len.min(pool.len() / 2).max(1);
    let mut start = rng.below((pool.len() - len) as u64) as usize;
    while start > 0 && pool[start - 1] != b'\n' {
        start -= 1;
    }
    let mut end = start + len;
    while end < pool.len() && pool[end - 1] != b'\n' {
        end += 1;
    }
    &pool[start..end]
}

fn base64_lines(raw: &[u8]) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(raw.len() / 3 * 4 + raw.len() / 57 * 2 + 8);
    for line in raw.chunks(57) {
        for c in line.chunks(3) {
            let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            out.push(A[(n >> 18) as usize & 63]);
            out.push(A[(n >> 12) as usize & 63]);
            out.push(if c.len() > 1 {
                A[(n >> 6) as usize & 63]
            } else {
                b'='
            });
            out.push(if c.len() > 2 {
                A[n as usize & 63]
            } else {
                b'='
            });
        }
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// RFC 5322 date, UTC: `Tue, 30 Nov 2026 06:22:30 +0000`.
pub(crate) fn rfc5322_date(unix: i64) -> String {
    let c = Civil::from_unix(unix);
    format!(
        "{}, {} {} {} {:02}:{:02}:{:02} +0000",
        c.weekday, c.day, c.month_name, c.year, c.hour, c.minute, c.second
    )
}

/// RFC 3339 date, UTC, seconds precision (Go's JSON time format for whole seconds).
pub(crate) fn rfc3339(unix: i64) -> String {
    format!("{}Z", Civil::from_unix(unix).rfc3339_seconds())
}

/// A JSON string as Go's encoding/json writes it (HTML characters escaped).
pub(crate) fn go_json_str(s: &str) -> String {
    serde_json::to_string(s)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// What a generated message file holds, with the offsets the parsed structure needs.
pub(crate) struct Built {
    pub file: Vec<u8>,
    /// Offset of the body (after the header's blank line) within the file.
    pub body_offset: usize,
    /// For multipart: (boundary, [(boundary offset, header offset, body offset, end offset,
    /// media subtype, encoding, decoded size)]).
    pub parts: Vec<PartInfo>,
    pub boundary: Option<String>,
    pub text_lines: usize,
}

pub(crate) struct PartInfo {
    pub boundary_offset: usize,
    pub header_offset: usize,
    pub body_offset: usize,
    pub end_offset: usize,
    pub media_type: &'static str,
    pub media_subtype: &'static str,
    pub encoding: &'static str,
    pub lines: usize,
}

/// The header fields every generated message has.
pub(crate) struct Header<'a> {
    pub from: &'a Person,
    pub to: &'a Person,
    pub subject: &'a str,
    pub date: i64,
    pub message_id: &'a str,
    pub in_reply_to: Option<&'a str>,
}

/// Builds a message: text body of about `text_len` bytes and, if `attachment_len > 0`, a
/// base64 attachment of about that many bytes.
pub(crate) fn build_message(
    rng: &mut Rng,
    pools: &Pools,
    h: &Header<'_>,
    text_len: usize,
    attachment_len: usize,
) -> Built {
    let mut f = Vec::with_capacity(text_len + attachment_len + 1024);
    let push = |f: &mut Vec<u8>, s: &str| f.extend_from_slice(s.as_bytes());
    push(
        &mut f,
        &format!("From: {} <{}>\r\n", h.from.name, h.from.addr()),
    );
    push(&mut f, &format!("To: {} <{}>\r\n", h.to.name, h.to.addr()));
    push(&mut f, &format!("Subject: {}\r\n", h.subject));
    push(&mut f, &format!("Date: {}\r\n", rfc5322_date(h.date)));
    push(&mut f, &format!("Message-ID: <{}>\r\n", h.message_id));
    if let Some(p) = h.in_reply_to {
        push(
            &mut f,
            &format!("In-Reply-To: <{p}>\r\nReferences: <{p}>\r\n"),
        );
    }
    push(&mut f, "MIME-Version: 1.0\r\n");
    let text = pools.text(rng, text_len);
    if attachment_len == 0 {
        push(
            &mut f,
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        );
        let body_offset = f.len();
        f.extend_from_slice(text);
        return Built {
            file: f,
            body_offset,
            parts: Vec::new(),
            boundary: None,
            text_lines: text.iter().filter(|&&b| b == b'\n').count(),
        };
    }
    let boundary = format!("=_{}", rng.hex(24));
    push(
        &mut f,
        &format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"),
    );
    let body_offset = f.len();
    let mut parts = Vec::new();
    let data = pools.base64(rng, attachment_len);
    let name = format!("document-{}.pdf", rng.below(10_000));
    let sections: [(&str, &[u8], &'static str, &'static str, &'static str); 2] = [
        (
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n",
            text,
            "TEXT",
            "PLAIN",
            "8BIT",
        ),
        ("", &data, "APPLICATION", "PDF", "BASE64"),
    ];
    for (i, (hdr, body, mt, mst, enc)) in sections.iter().enumerate() {
        let boundary_offset = f.len();
        push(&mut f, &format!("--{boundary}\r\n"));
        let header_offset = f.len();
        if i == 1 {
            push(
                &mut f,
                &format!(
                    "Content-Type: application/pdf; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"{name}\"\r\n"
                ),
            );
        } else {
            push(&mut f, hdr);
        }
        push(&mut f, "\r\n");
        let part_body = f.len();
        f.extend_from_slice(body);
        // The CRLF before the next boundary belongs to the boundary, not the part.
        let end_offset = f.len() - 2;
        parts.push(PartInfo {
            boundary_offset,
            header_offset,
            body_offset: part_body,
            end_offset,
            media_type: mt,
            media_subtype: mst,
            encoding: enc,
            lines: body.iter().filter(|&&b| b == b'\n').count(),
        });
    }
    push(&mut f, &format!("--{boundary}--\r\n"));
    Built {
        file: f,
        body_offset,
        parts,
        boundary: Some(boundary),
        text_lines: 0,
    }
}

/// The JSON of mox's parsed message structure (`Message.ParsedBuf`), offsets counted from the
/// start of MsgPrefix + file as mox counts them.
pub(crate) fn parsed_buf(b: &Built, h: &Header<'_>, prefix_len: usize) -> Vec<u8> {
    let total = prefix_len + b.file.len();
    let addr = |p: &Person| {
        format!(
            "[{{\"Name\":{},\"User\":{},\"Host\":{}}}]",
            go_json_str(&p.name),
            go_json_str(&p.local),
            go_json_str(&p.domain)
        )
    };
    let envelope = format!(
        "{{\"Date\":\"{}\",\"Subject\":{},\"From\":{},\"Sender\":null,\"ReplyTo\":null,\"To\":{},\"CC\":null,\"BCC\":null,\"InReplyTo\":{},\"MessageID\":{}}}",
        rfc3339(h.date),
        go_json_str(h.subject),
        addr(h.from),
        addr(h.to),
        go_json_str(&h.in_reply_to.map(|p| format!("<{p}>")).unwrap_or_default()),
        go_json_str(&format!("<{}>", h.message_id)),
    );
    let s = match &b.boundary {
        None => format!(
            "{{\"BoundaryOffset\":-1,\"HeaderOffset\":0,\"BodyOffset\":{},\"EndOffset\":{total},\"RawLineCount\":{},\"DecodedSize\":{},\"MediaType\":\"TEXT\",\"MediaSubType\":\"PLAIN\",\"ContentTypeParams\":{{\"charset\":\"utf-8\"}},\"ContentTransferEncoding\":\"8BIT\",\"Envelope\":{envelope},\"Parts\":null,\"Message\":null}}",
            prefix_len + b.body_offset,
            b.text_lines,
            b.file.len() - b.body_offset,
        ),
        Some(boundary) => {
            let parts: Vec<String> = b
                .parts
                .iter()
                .map(|p| {
                    let params = if p.media_type == "TEXT" {
                        "{\"charset\":\"utf-8\"}".to_string()
                    } else {
                        "{\"name\":\"document.pdf\"}".to_string()
                    };
                    let size = p.end_offset - p.body_offset;
                    let decoded = if p.encoding == "BASE64" {
                        (size - p.lines * 2) / 4 * 3
                    } else {
                        size
                    };
                    format!(
                        "{{\"BoundaryOffset\":{},\"HeaderOffset\":{},\"BodyOffset\":{},\"EndOffset\":{},\"RawLineCount\":{},\"DecodedSize\":{decoded},\"MediaType\":\"{}\",\"MediaSubType\":\"{}\",\"ContentTypeParams\":{params},\"ContentTransferEncoding\":\"{}\",\"Parts\":null,\"Message\":null}}",
                        prefix_len + p.boundary_offset,
                        prefix_len + p.header_offset,
                        prefix_len + p.body_offset,
                        prefix_len + p.end_offset,
                        p.lines,
                        p.media_type,
                        p.media_subtype,
                        p.encoding,
                    )
                })
                .collect();
            format!(
                "{{\"BoundaryOffset\":-1,\"HeaderOffset\":0,\"BodyOffset\":{},\"EndOffset\":{total},\"RawLineCount\":0,\"DecodedSize\":0,\"MediaType\":\"MULTIPART\",\"MediaSubType\":\"MIXED\",\"ContentTypeParams\":{{\"boundary\":{}}},\"Envelope\":{envelope},\"Parts\":[{}],\"Message\":null}}",
                prefix_len + b.body_offset,
                go_json_str(boundary),
                parts.join(","),
            )
        }
    };
    s.into_bytes()
}

/// The header lines mox puts before an SMTP-delivered message (stored as MsgPrefix).
pub(crate) fn smtp_prefix(rng: &mut Rng, rcpt: &str, from: &Person, unix: i64) -> Vec<u8> {
    let d = &from.domain;
    let f = from.addr();
    format!(
        "X-Mox-Reason: no-bad-signals; not using any dmarc result;\r\n\taddress/dkim/spf/ip-based reputation (inconclusive, no address/spf/dkim/ip\r\n\t reputation);\r\n\tno known reputation and no bad signals;\r\n\
Delivered-To: {rcpt}\r\n\
Return-Path: <{f}>\r\n\
Authentication-Results: mail.example.org;\r\n\tiprev=pass (without dnssec) policy.iprev=192.0.2.25;\r\n\tdkim=none reason=\"no dkim signatures\";\r\n\tspf=none (with dnssec) smtp.mailfrom={d};\r\n\tdmarc=none (with dnssec) header.from={d}\r\n\
Received-SPF: none (domain {d}) client-ip=192.0.2.25;\r\n\tenvelope-from=\"{f}\"; helo=relay.{d};\r\n\treceiver=mail.example.org; identity=mailfrom\r\n\
Received: from relay.{d} ([192.0.2.25]) by\r\n\tmail.example.org ([192.0.2.1]) via tcp with ESMTPS id {}\r\n\t(TLS1.3 TLS_AES_128_GCM_SHA256) for <{rcpt}>;\r\n\t{}\r\n",
        rng.token(22),
        rfc5322_date(unix),
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_format_like_go() {
        assert_eq!(rfc3339(1_704_502_159), "2024-01-06T00:49:19Z");
        assert_eq!(rfc5322_date(0), "Thu, 1 Jan 1970 00:00:00 +0000");
    }

    #[test]
    fn base64_encodes_like_the_standard() {
        assert_eq!(base64_lines(b"Man"), b"TWFu\r\n");
        assert_eq!(base64_lines(b"Ma"), b"TWE=\r\n");
    }

    #[test]
    fn multipart_offsets_point_at_parts() {
        let mut rng = Rng::new(1);
        let pools = Pools::new(&mut rng);
        let p = Person::random(&mut rng);
        let h = Header {
            from: &p,
            to: &p,
            subject: "s",
            date: 1,
            message_id: "x@y",
            in_reply_to: None,
        };
        let b = build_message(&mut rng, &pools, &h, 2000, 50_000);
        let part = &b.parts[1];
        assert!(b.file[part.boundary_offset..].starts_with(b"--=_"));
        assert!(b.file[part.header_offset..].starts_with(b"Content-Type: application/pdf"));
        assert_eq!(&b.file[part.end_offset..part.end_offset + 4], b"\r\n--");
    }
}
