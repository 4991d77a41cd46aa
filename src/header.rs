//! The header of an RFC 5322 message, read when a mox record lacks what mox parsed of it: the
//! fields `find`, `ls` and `diff` show (Date, Subject, From, To, Cc, Message-ID), unfolded, with
//! RFC 2047 encoded words decoded (UTF-8, US-ASCII and ISO-8859-1; other charsets stay encoded).

use crate::mox::{Address, Envelope};

/// The header block of `data`: the lines before the first empty line (all of it without one).
pub fn header_block(data: &[u8]) -> &[u8] {
    let mut pos = 0;
    for line in data.split_inclusive(|&b| b == b'\n') {
        if line == b"\n" || line == b"\r\n" {
            return &data[..pos];
        }
        pos += line.len();
    }
    data
}

/// The fields of a header block, in order: (name, unfolded value with surrounding white space
/// trimmed). Bytes that are not UTF-8 are replaced.
pub fn fields(header: &[u8]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in header.split_inclusive(|&b| b == b'\n') {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.starts_with([' ', '\t']) {
            if let Some((_, value)) = out.last_mut() {
                value.push(' ');
                value.push_str(text.trim());
            }
            continue;
        }
        if let Some((name, value)) = text.split_once(':') {
            out.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    out
}

/// The first field named `name` (any letter case).
fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The envelope of a message read from its bytes (`MsgPrefix` and the file, or the file alone).
pub fn envelope_of(data: &[u8]) -> Envelope {
    let f = fields(header_block(data));
    let addresses = |name: &str| field(&f, name).map(parse_addresses).unwrap_or_default();
    Envelope {
        date: field(&f, "Date").map(str::to_string),
        subject: field(&f, "Subject").map(decode_words).unwrap_or_default(),
        from: addresses("From"),
        to: addresses("To"),
        cc: addresses("Cc"),
        message_id: field(&f, "Message-ID").unwrap_or_default().to_string(),
    }
}

/// A Message-ID as mox indexes it: without angle brackets and surrounding space, lower case.
pub fn normalize_message_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_lowercase()
}

/// The addresses of an address-list field (`Name <user@host>, user@host, "Last, First" <..>`).
/// Groups are flattened; comments are dropped.
pub fn parse_addresses(value: &str) -> Vec<Address> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut angle, mut comment) = (false, false, 0u32);
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                continue;
            }
            '"' if comment == 0 => quoted = !quoted,
            '(' if !quoted => comment += 1,
            ')' if !quoted && comment > 0 => comment -= 1,
            '<' if !quoted && comment == 0 => angle = true,
            '>' if !quoted && comment == 0 => angle = false,
            ',' | ';' if !quoted && !angle && comment == 0 => {
                parts.push(std::mem::take(&mut cur));
                continue;
            }
            ':' if !quoted && !angle && comment == 0 => {
                // A group name: what came before is not an address.
                cur.clear();
                continue;
            }
            _ => {}
        }
        if comment == 0 && c != ')' {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts.iter().filter_map(|p| parse_address(p)).collect()
}

fn parse_address(part: &str) -> Option<Address> {
    let part = part.trim();
    if part.is_empty() {
        return None;
    }
    let (name, addr) = match (part.rfind('<'), part.rfind('>')) {
        (Some(l), Some(r)) if l < r => (
            part[..l].trim().trim_matches('"').trim(),
            part[l + 1..r].trim(),
        ),
        _ => ("", part.trim_matches('"')),
    };
    let (user, host) = addr.rsplit_once('@').unwrap_or((addr, ""));
    Some(Address {
        name: decode_words(name),
        user: user.trim_matches('"').to_string(),
        host: host.to_string(),
    })
}

/// Decodes the RFC 2047 encoded words of a header value (`=?utf-8?B?...?=`,
/// `=?iso-8859-1?Q?...?=`); white space between two encoded words is dropped, as the RFC says.
/// A word in another charset, or malformed, stays as it is.
pub fn decode_words(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    let mut last_was_word = false;
    let mut pending_space = String::new();
    while !rest.is_empty() {
        if let Some(start) = rest.find("=?") {
            let (before, at) = rest.split_at(start);
            if let Some((decoded, len)) = decode_word(at) {
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(&pending_space);
                    out.push_str(before);
                }
                pending_space.clear();
                out.push_str(&decoded);
                rest = &at[len..];
                last_was_word = true;
                // Keep the white space that follows until we know what comes after it.
                let ws = rest.len() - rest.trim_start().len();
                pending_space.push_str(&rest[..ws]);
                rest = &rest[ws..];
                continue;
            }
            out.push_str(&pending_space);
            pending_space.clear();
            out.push_str(before);
            out.push_str("=?");
            rest = &at[2..];
            last_was_word = false;
            continue;
        }
        out.push_str(&pending_space);
        pending_space.clear();
        out.push_str(rest);
        break;
    }
    out.push_str(&pending_space);
    out
}

/// One encoded word at the start of `s`: its text and length.
fn decode_word(s: &str) -> Option<(String, usize)> {
    let body = s.strip_prefix("=?")?;
    let q1 = body.find('?')?;
    let charset = body[..q1].split('*').next()?.to_ascii_lowercase();
    let after = &body[q1 + 1..];
    let q2 = after.find('?')?;
    let encoding = &after[..q2];
    let text_and_end = &after[q2 + 1..];
    let end = text_and_end.find("?=")?;
    let text = &text_and_end[..end];
    if text.contains(' ') {
        return None;
    }
    let bytes = match encoding {
        "B" | "b" => base64_decode(text)?,
        "Q" | "q" => q_decode(text)?,
        _ => return None,
    };
    let decoded = match charset.as_str() {
        "utf-8" | "utf8" | "us-ascii" => String::from_utf8_lossy(&bytes).into_owned(),
        "iso-8859-1" | "latin1" => bytes.iter().map(|&b| b as char).collect(),
        _ => return None,
    };
    let len = 2 + q1 + 1 + q2 + 1 + end + 2;
    Some((decoded, len))
}

fn q_decode(text: &str) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'_' => out.push(b' '),
            b'=' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    Some(out)
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_unfolded_up_to_the_body() {
        let msg = b"Subject: a\r\n long one\r\nFrom: \"Doe, J\" <j@x.example>, b@y\r\n\r\nSubject: no\r\n";
        let env = envelope_of(msg);
        assert_eq!(env.subject, "a long one");
        assert_eq!(env.from.len(), 2);
        assert_eq!(env.from[0].name, "Doe, J");
        assert_eq!(env.from[0].addr(), "j@x.example");
        assert_eq!(env.from[1].to_string(), "b@y");
    }

    #[test]
    fn encoded_words_decode() {
        assert_eq!(decode_words("=?utf-8?B?w6lsw6h2ZQ==?="), "élève");
        assert_eq!(
            decode_words("=?iso-8859-1?Q?caf=E9_au?= =?utf-8?Q?_lait?= ok"),
            "café au lait ok"
        );
        assert_eq!(
            decode_words("plain =?x-unknown?Q?a?="),
            "plain =?x-unknown?Q?a?="
        );
        assert_eq!(decode_words("a =?utf-8?Q?b?= c"), "a b c");
    }

    #[test]
    fn message_ids_normalize() {
        assert_eq!(
            normalize_message_id(" <AbC@Host.Example> "),
            "abc@host.example"
        );
    }

    #[test]
    fn groups_and_comments() {
        let a = parse_addresses("team: a@x (Alice), Bob <b@y>;");
        assert_eq!(a.len(), 2, "{a:?}");
        assert_eq!(a[0].addr(), "a@x");
        assert_eq!(a[1].name, "Bob");
    }
}
