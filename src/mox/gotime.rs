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

/// A Unix time (seconds) as a UTC calendar date and time of day, with English names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub year: i64,
    /// 1–12.
    pub month: u32,
    /// 1–31.
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    /// "Mon"…"Sun".
    pub weekday: &'static str,
    /// "Jan"…"Dec".
    pub month_name: &'static str,
}

impl Civil {
    /// The date and time of `unix` seconds, proleptic Gregorian (Howard Hinnant's algorithm
    /// for the date).
    pub(crate) fn from_unix(unix: i64) -> Civil {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        // 1970-01-01 was a Thursday.
        const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        let days = unix.div_euclid(86_400);
        let sod = unix.rem_euclid(86_400) as u32;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Civil {
            year: yoe + era * 400 + i64::from(month <= 2),
            month,
            day,
            hour: sod / 3600,
            minute: sod / 60 % 60,
            second: sod % 60,
            weekday: WEEKDAYS[days.rem_euclid(7) as usize],
            month_name: MONTHS[month as usize - 1],
        }
    }

    /// `2006-01-02T15:04:05` (no fraction, no zone).
    pub(crate) fn rfc3339_seconds(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Formats Unix nanoseconds as RFC 3339 in UTC, with the fraction trimmed of trailing zeros
/// (Go's `time.RFC3339Nano`).
pub fn rfc3339_nanos(unix_nanos: i64) -> String {
    let nanos = unix_nanos.rem_euclid(1_000_000_000);
    let mut s = Civil::from_unix(unix_nanos.div_euclid(1_000_000_000)).rfc3339_seconds();
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the inverse of [`Civil::from_unix`]'s
/// date part).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an RFC 3339 date-time (`2026-11-30T06:00:00Z`, `2026-11-30T07:00:00.5+01:00`; `t`,
/// `z` and a space separator accepted) into Unix nanoseconds. `None` when it is not one.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = b.get(range)?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month)
        || day == 0
        || day > month_days[month as usize - 1]
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &b[19..];
    let mut nanos = 0i64;
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        for (i, d) in frac[..n].iter().enumerate() {
            if i < 9 {
                nanos = nanos * 10 + i64::from(d - b'0');
            }
        }
        for _ in n..9 {
            nanos *= 10;
        }
        rest = &frac[n..];
    }
    let offset_secs: i64 = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let digits = [*h1, *h2, *m1, *m2];
            if !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let h = i64::from((h1 - b'0') * 10 + (h2 - b'0'));
            let m = i64::from((m1 - b'0') * 10 + (m2 - b'0'));
            if h > 23 || m > 59 {
                return None;
            }
            let secs = h * 3600 + m * 60;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    // A leap second (:60) is taken as the second after :59, as most parsers do.
    let local = days_from_civil(i64::from(year), month, day) * 86_400
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second);
    (local - offset_secs)
        .checked_mul(1_000_000_000)?
        .checked_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parses_any_offset() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339("1969-12-31T19:00:00-05:00"), Some(0));
        assert_eq!(
            parse_rfc3339("2026-11-30T07:22:30.512954388+01:00"),
            Some(1_796_019_750_512_954_388)
        );
        assert_eq!(
            parse_rfc3339("2026-11-30 06:22:30.5z"),
            Some(1_796_019_750_500_000_000)
        );
        for bad in [
            "2026-11-30",
            "2026-11-30T06:22:30",
            "2026-02-30T06:22:30Z",
            "2026-11-30T06:22:30+0100",
            "2026-11-30T06:22:30.Z",
            "2026-11-30T24:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        for ns in [
            0,
            951_782_400_500_000_000,
            1_795_933_350_512_954_388,
            -1_000_000_000,
        ] {
            assert_eq!(parse_rfc3339(&rfc3339_nanos(ns)), Some(ns));
        }
    }

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
        let date = |unix| {
            let c = Civil::from_unix(unix);
            (c.year, c.month, c.day, c.weekday, c.month_name)
        };
        assert_eq!(date(0), (1970, 1, 1, "Thu", "Jan"));
        assert_eq!(date(11_016 * 86_400), (2000, 2, 29, "Tue", "Feb"));
        assert_eq!(date(-1), (1969, 12, 31, "Wed", "Dec"));
        assert_eq!(date(-UNIX_TO_INTERNAL), (1, 1, 1, "Mon", "Jan"));
        let c = Civil::from_unix(1_136_214_245);
        assert_eq!((c.hour, c.minute, c.second), (15, 4, 5));
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
