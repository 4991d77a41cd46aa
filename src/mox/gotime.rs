//! Go `time.Time` as bstore stores it (`MarshalBinary`), and the calendar arithmetic every
//! date format of the crate builds on.
//!
//! `MarshalBinary` (version 1, 15 bytes; version 2, 16 bytes), big-endian:
//! `version u8, seconds since 0001-01-01 i64, nanoseconds i32, zone offset in minutes i16`
//! (−1: UTC), and in version 2 `extra offset seconds i8`.

/// Seconds from 0001-01-01 to 1970-01-01 (Go's `time` epoch offset).
pub(crate) const UNIX_TO_INTERNAL: i64 = 62_135_596_800;

/// A Go `time.Time` as bstore stores it (MarshalBinary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoTime {
    /// Seconds since 1970-01-01 UTC.
    pub unix: i64,
    pub nanos: u32,
    /// Zone offset in minutes east of UTC; −1 means the UTC location.
    pub offset_min: i16,
    /// Extra offset seconds (MarshalBinary version 2 only).
    pub offset_sec: i8,
}

impl GoTime {
    /// Go's zero time, 0001-01-01T00:00:00Z.
    pub(crate) const ZERO: GoTime = GoTime::utc(-UNIX_TO_INTERNAL, 0);

    /// A UTC time.
    pub const fn utc(unix: i64, nanos: u32) -> GoTime {
        GoTime {
            unix,
            nanos,
            offset_min: -1,
            offset_sec: 0,
        }
    }

    /// The MarshalBinary bytes.
    pub fn to_binary(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        out.push(if self.offset_sec != 0 { 2 } else { 1 });
        out.extend_from_slice(&(self.unix + UNIX_TO_INTERNAL).to_be_bytes());
        out.extend_from_slice(&(self.nanos as i32).to_be_bytes());
        out.extend_from_slice(&self.offset_min.to_be_bytes());
        if self.offset_sec != 0 {
            out.push(self.offset_sec as u8);
        }
        out
    }

    /// Parses MarshalBinary bytes (version 1 or 2). None for another length or version, and
    /// for seconds before Unix time can count them.
    pub fn from_binary(b: &[u8]) -> Option<GoTime> {
        let (version, len) = match b.first()? {
            1 => (1, 15),
            2 => (2, 16),
            _ => return None,
        };
        if b.len() != len {
            return None;
        }
        let secs = i64::from_be_bytes(b[1..9].try_into().ok()?);
        let nanos = i32::from_be_bytes(b[9..13].try_into().ok()?);
        let offset_min = i16::from_be_bytes(b[13..15].try_into().ok()?);
        Some(GoTime {
            unix: secs.checked_sub(UNIX_TO_INTERNAL)?,
            nanos: nanos as u32,
            offset_min,
            offset_sec: if version == 2 { b[15] as i8 } else { 0 },
        })
    }

    /// Whether this is Go's zero time (what bstore leaves out of a record).
    pub(crate) fn is_zero(self) -> bool {
        self.unix == -UNIX_TO_INTERNAL && self.nanos == 0
    }
}

/// Unix time in nanoseconds of a Go `time.Time.MarshalBinary` value (version 1 or 2).
pub fn time_unix_nanos(b: &[u8]) -> Option<i128> {
    let t = GoTime::from_binary(b)?;
    if t.nanos >= 1_000_000_000 {
        return None;
    }
    Some(i128::from(t.unix) * 1_000_000_000 + i128::from(t.nanos))
}

/// English month abbreviations, January first.
pub(crate) const MONTH_NAMES: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// English weekday abbreviation of a day counted from 1970-01-01 (a Thursday).
pub(crate) fn weekday_name(days: i64) -> &'static str {
    ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize]
}

/// Days since 1970-01-01 to (year, month 1–12, day 1–31), proleptic Gregorian (Howard
/// Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Formats Unix nanoseconds as RFC 3339 in UTC, with the fraction trimmed of trailing zeros
/// (Go's `time.RFC3339Nano`).
pub fn rfc3339_nanos(unix_nanos: i64) -> String {
    let secs = unix_nanos.div_euclid(1_000_000_000);
    let nanos = unix_nanos.rem_euclid(1_000_000_000);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        assert_eq!(rfc3339_nanos(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_nanos(1_795_933_350_512_954_388),
            "2026-11-29T06:22:30.512954388Z"
        );
        assert_eq!(
            rfc3339_nanos(951_782_400_500_000_000),
            "2000-02-29T00:00:00.5Z"
        );
        assert_eq!(rfc3339_nanos(-1_000_000_000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(-719_162), (1, 1, 1));
    }

    #[test]
    fn time_binary_round_trips() {
        let t = GoTime::utc(1_795_020_326, 512_954_388);
        let b = t.to_binary();
        assert_eq!(b.len(), 15);
        assert_eq!(GoTime::from_binary(&b), Some(t));
        assert!(
            GoTime::from_binary(&GoTime::ZERO.to_binary())
                .unwrap()
                .is_zero()
        );
    }

    #[test]
    fn time_decodes() {
        // 1970-01-01T00:00:01.5Z
        let mut b = vec![1u8];
        b.extend_from_slice(&(62_135_596_801i64).to_be_bytes());
        b.extend_from_slice(&500_000_000i32.to_be_bytes());
        b.extend_from_slice(&(-1i16).to_be_bytes());
        assert_eq!(time_unix_nanos(&b), Some(1_500_000_000));
        assert_eq!(time_unix_nanos(&b[..10]), None);
        // Nanoseconds out of range, and seconds Unix time cannot count.
        b[9..13].copy_from_slice(&1_000_000_000i32.to_be_bytes());
        assert_eq!(time_unix_nanos(&b), None);
        b[1..9].copy_from_slice(&i64::MIN.to_be_bytes());
        assert_eq!(GoTime::from_binary(&b), None);
    }
}
