//! Retention policies for `forget`: which snapshots to keep. Pure: snapshots (id, time, host,
//! source, tags) and a policy in, a decision per snapshot out, with the rules that kept it.
//!
//! The semantics are restic's `forget`:
//! - Snapshots are grouped ([`GroupBy`]: by host and source unless told otherwise) and the
//!   policy is applied to each group on its own, newest snapshot first.
//! - `last N` keeps the N newest snapshots.
//! - `hourly`/`daily`/`weekly`/`monthly`/`yearly N` keep the newest snapshot of each of the N
//!   newest hours, days, ... that have snapshots (periods without one do not count). While
//!   such a rule has counts left, the oldest snapshot of the group is kept too (it keeps the
//!   longest history when there are fewer periods than asked for).
//! - A count of [`Keep::All`] (`-1` or `unlimited` on the command line) has no limit.
//! - `within D` keeps every snapshot newer than D before the newest snapshot of the group (not
//!   before now: a repository whose backups stopped keeps its last ones); `<period> within D`
//!   keeps the newest snapshot of each period in that window. A snapshot dated in the future
//!   (a wrong clock) is not taken as the newest one.
//! - `tag T` keeps every snapshot carrying the tag T.
//! - A snapshot is kept when any rule keeps it.
//!
//! Periods are calendar periods in UTC (hours, days, ISO weeks from Monday, months, years);
//! durations are calendar durations (`1y2m3d4h`: a month back from March 31 is March 3 or 2, as
//! Go's `AddDate`, which restic uses, normalizes February 31).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::id::SnapshotId;
use crate::mox::{Civil, days_from_civil};
use crate::snapshot::Snapshot;

const NS: i64 = 1_000_000_000;

/// How many snapshots a counting rule keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Keep {
    /// The rule is not used.
    #[default]
    Off,
    /// At most this many (0 is the same as [`Keep::Off`]).
    Count(u32),
    /// No limit.
    All,
}

impl Keep {
    fn is_on(self) -> bool {
        !matches!(self, Keep::Off | Keep::Count(0))
    }
}

impl fmt::Display for Keep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Keep::Off => f.write_str("0"),
            Keep::Count(n) => write!(f, "{n}"),
            Keep::All => f.write_str("all"),
        }
    }
}

impl FromStr for Keep {
    type Err = Error;

    /// A count, or `-1` (also `unlimited` or `all`) for no limit.
    fn from_str(s: &str) -> Result<Keep> {
        let t = s.trim();
        match t {
            "-1" | "unlimited" | "all" => return Ok(Keep::All),
            "0" => return Ok(Keep::Off),
            _ => {}
        }
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::Invalid(format!(
                "{s:?} is not a count: give a number of snapshots, or -1 (or `unlimited`) to keep \
                 all"
            )));
        }
        t.parse::<u32>().map(Keep::Count).map_err(|_| {
            Error::Invalid(format!(
                "{s:?} is too large a count: give at most {}, or -1 to keep all",
                u32::MAX
            ))
        })
    }
}

/// A calendar duration: years, months, days and hours, written like restic's `1y2m3d4h`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    pub years: u32,
    pub months: u32,
    pub days: u32,
    pub hours: u32,
}

impl Span {
    /// Whether every part is zero (such a span keeps nothing and is not a rule).
    pub fn is_zero(&self) -> bool {
        *self == Span::default()
    }

    /// The time `self` before `time_ns` (calendar arithmetic in UTC, normalized like Go's
    /// `AddDate`: a month before March 31 is March 3, or March 2 in a leap year).
    pub fn before(&self, time_ns: i64) -> i64 {
        let secs = time_ns.div_euclid(NS);
        let sub = time_ns.rem_euclid(NS);
        let c = Civil::from_unix(secs);
        let months = c.year * 12 + i64::from(c.month)
            - 1
            - i64::from(self.years) * 12
            - i64::from(self.months);
        let (year, month) = (months.div_euclid(12), months.rem_euclid(12) as u32 + 1);
        // Go normalizes a day past the end of the month by counting on from the 1st.
        let days = days_from_civil(year, month, 1) + i64::from(c.day) - 1 - i64::from(self.days);
        let tod = i64::from(c.hour) * 3600 + i64::from(c.minute) * 60 + i64::from(c.second);
        let t = days * 86_400 + tod - i64::from(self.hours) * 3600;
        t.saturating_mul(NS).saturating_add(sub)
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0h");
        }
        for (n, unit) in [
            (self.years, 'y'),
            (self.months, 'm'),
            (self.days, 'd'),
            (self.hours, 'h'),
        ] {
            if n != 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for Span {
    type Err = Error;

    /// `<n><unit>...` with units `y` (years), `m` (months), `d` (days), `h` (hours), each at
    /// most once, in any order: `30d`, `1y6m`, `2d12h`. Not zero.
    fn from_str(s: &str) -> Result<Span> {
        let bad = |why: String| {
            Error::Invalid(format!(
                "{s:?} is not a duration ({why}): write it like 1y2m3d4h (years, months, days, \
                 hours), e.g. 30d or 1y6m"
            ))
        };
        let text = s.trim();
        if text.is_empty() {
            return Err(bad("it is empty".into()));
        }
        let mut span = Span::default();
        let mut seen = BTreeSet::new();
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad(format!("expected a number at {rest:?}")));
            }
            let n: u32 = rest[..digits]
                .parse()
                .map_err(|_| bad(format!("{} is too large", &rest[..digits])))?;
            let Some(unit) = rest[digits..].chars().next() else {
                return Err(bad(format!("no unit after {n}")));
            };
            let slot = match unit {
                'y' => &mut span.years,
                'm' => &mut span.months,
                'd' => &mut span.days,
                'h' => &mut span.hours,
                other => {
                    return Err(bad(format!(
                        "unknown unit {other:?} after {n}; units are y, m, d and h"
                    )));
                }
            };
            if !seen.insert(unit) {
                return Err(bad(format!("the unit {unit:?} is given twice")));
            }
            *slot = n;
            rest = &rest[digits + unit.len_utf8()..];
        }
        if span.is_zero() {
            return Err(bad("it is zero".into()));
        }
        Ok(span)
    }
}

/// A calendar period of the counting rules (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    Hour,
    Day,
    /// An ISO week: Monday to Sunday.
    Week,
    Month,
    Year,
}

impl Period {
    /// Every period, shortest first.
    pub const ALL: [Period; 5] = [
        Period::Hour,
        Period::Day,
        Period::Week,
        Period::Month,
        Period::Year,
    ];

    /// `hourly`, `daily`, `weekly`, `monthly`, `yearly`.
    pub fn adjective(self) -> &'static str {
        match self {
            Period::Hour => "hourly",
            Period::Day => "daily",
            Period::Week => "weekly",
            Period::Month => "monthly",
            Period::Year => "yearly",
        }
    }

    /// A number naming the period that holds `time_ns` (equal for times in the same period).
    pub fn bucket(self, time_ns: i64) -> i64 {
        let secs = time_ns.div_euclid(NS);
        let days = secs.div_euclid(86_400);
        match self {
            Period::Hour => secs.div_euclid(3600),
            Period::Day => days,
            // 1970-01-01 was a Thursday: day -3 is the Monday that starts its week.
            Period::Week => (days + 3).div_euclid(7),
            Period::Month => {
                let c = Civil::from_unix(secs);
                c.year * 12 + i64::from(c.month) - 1
            }
            Period::Year => Civil::from_unix(secs).year,
        }
    }
}

/// What to keep. The default keeps nothing: [`Policy::is_empty`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// The newest N snapshots.
    pub last: Keep,
    pub hourly: Keep,
    pub daily: Keep,
    pub weekly: Keep,
    pub monthly: Keep,
    pub yearly: Keep,
    /// Every snapshot within this span of the newest one.
    pub within: Option<Span>,
    pub within_hourly: Option<Span>,
    pub within_daily: Option<Span>,
    pub within_weekly: Option<Span>,
    pub within_monthly: Option<Span>,
    pub within_yearly: Option<Span>,
    /// Every snapshot carrying one of these tags.
    pub tags: Vec<String>,
}

impl Policy {
    /// The count of the rule of `period` (`hourly`, `daily`, ...).
    pub fn every(&self, period: Period) -> Keep {
        match period {
            Period::Hour => self.hourly,
            Period::Day => self.daily,
            Period::Week => self.weekly,
            Period::Month => self.monthly,
            Period::Year => self.yearly,
        }
    }

    /// The span of the rule `<period> within`.
    pub fn every_within(&self, period: Period) -> Option<Span> {
        let span = match period {
            Period::Hour => self.within_hourly,
            Period::Day => self.within_daily,
            Period::Week => self.within_weekly,
            Period::Month => self.within_monthly,
            Period::Year => self.within_yearly,
        };
        span.filter(|s| !s.is_zero())
    }

    fn within(&self) -> Option<Span> {
        self.within.filter(|s| !s.is_zero())
    }

    /// True when no rule is given: such a policy would remove every snapshot.
    pub fn is_empty(&self) -> bool {
        !self.last.is_on()
            && Period::ALL.iter().all(|p| !self.every(*p).is_on())
            && self.within().is_none()
            && Period::ALL.iter().all(|p| self.every_within(*p).is_none())
            && self.tags.is_empty()
    }

    /// Refuses an empty policy: it would remove every snapshot.
    pub fn require(&self) -> Result<()> {
        if self.is_empty() {
            return Err(Error::Invalid(
                "no policy given: it would remove every snapshot; give --keep-last, \
                 --keep-daily, --keep-within, --keep-tag or another --keep-* option, or the \
                 snapshots to forget"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The rules of the policy, as [`Rule`]s (for display).
    pub fn rules(&self) -> Vec<Rule> {
        let mut out = Vec::new();
        if self.last.is_on() {
            out.push(Rule::Last(self.last));
        }
        for p in Period::ALL {
            if self.every(p).is_on() {
                out.push(Rule::Every {
                    period: p,
                    keep: self.every(p),
                    oldest: false,
                });
            }
        }
        if let Some(span) = self.within() {
            out.push(Rule::Within(span));
        }
        for p in Period::ALL {
            if let Some(span) = self.every_within(p) {
                out.push(Rule::EveryWithin { period: p, span });
            }
        }
        out.extend(self.tags.iter().map(|t| Rule::Tag(t.clone())));
        out
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rules: Vec<String> = self.rules().iter().map(Rule::to_string).collect();
        f.write_str(&rules.join(", "))
    }
}

/// A rule that kept a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// `last N`: one of the N newest.
    Last(Keep),
    /// `daily N` etc.: the newest of its period, or (`oldest`) the oldest snapshot of the group
    /// kept because the rule had counts left.
    Every {
        period: Period,
        keep: Keep,
        oldest: bool,
    },
    /// `within D`.
    Within(Span),
    /// `daily within D` etc.
    EveryWithin { period: Period, span: Span },
    /// `tag T`.
    Tag(String),
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Last(keep) => write!(f, "last {keep}"),
            Rule::Every {
                period,
                keep,
                oldest,
            } => {
                write!(f, "{} {keep}", period.adjective())?;
                if *oldest {
                    f.write_str(" (oldest)")?;
                }
                Ok(())
            }
            Rule::Within(span) => write!(f, "within {span}"),
            Rule::EveryWithin { period, span } => {
                write!(f, "{} within {span}", period.adjective())
            }
            Rule::Tag(t) => write!(f, "tag {t}"),
        }
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// What the policy sees of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: SnapshotId,
    /// Nanoseconds since the Unix epoch.
    pub time_ns: i64,
    pub host: String,
    pub source: String,
    pub tags: Vec<String>,
}

impl Candidate {
    pub fn new(id: SnapshotId, snapshot: &Snapshot) -> Candidate {
        Candidate {
            id,
            time_ns: snapshot.time_ns,
            host: snapshot.host.clone(),
            source: snapshot.source.clone(),
            tags: snapshot.tags.clone(),
        }
    }
}

/// Which fields put snapshots in one group. The default is host and source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupBy {
    pub host: bool,
    pub source: bool,
    /// The set of tags (order and repeats do not matter).
    pub tags: bool,
}

impl Default for GroupBy {
    fn default() -> Self {
        GroupBy {
            host: true,
            source: true,
            tags: false,
        }
    }
}

impl FromStr for GroupBy {
    type Err = Error;

    /// A comma-separated subset of `host`, `source`, `tags`; the empty string for one group.
    fn from_str(s: &str) -> Result<GroupBy> {
        let mut by = GroupBy {
            host: false,
            source: false,
            tags: false,
        };
        for field in s.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            match field {
                "host" => by.host = true,
                "source" => by.source = true,
                "tags" => by.tags = true,
                other => {
                    return Err(Error::Invalid(format!(
                        "cannot group by {other:?}: give host, source and/or tags separated by \
                         commas, or '' for one group"
                    )));
                }
            }
        }
        Ok(by)
    }
}

impl fmt::Display for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut fields = Vec::new();
        for (on, name) in [
            (self.host, "host"),
            (self.source, "source"),
            (self.tags, "tags"),
        ] {
            if on {
                fields.push(name);
            }
        }
        f.write_str(&fields.join(","))
    }
}

/// The values a group shares (`None` for a field it is not grouped by).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct GroupKey {
    pub host: Option<String>,
    pub source: Option<String>,
    /// Sorted, each once.
    pub tags: Option<Vec<String>>,
}

impl GroupKey {
    fn of(c: &Candidate, by: GroupBy) -> GroupKey {
        GroupKey {
            host: by.host.then(|| c.host.clone()),
            source: by.source.then(|| c.source.clone()),
            tags: by.tags.then(|| {
                let set: BTreeSet<&String> = c.tags.iter().collect();
                set.into_iter().cloned().collect()
            }),
        }
    }
}

impl fmt::Display for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(h) = &self.host {
            parts.push(format!("host {h}"));
        }
        if let Some(s) = &self.source {
            parts.push(format!("source {s}"));
        }
        if let Some(t) = &self.tags {
            parts.push(match t.is_empty() {
                true => "no tags".to_string(),
                false => format!("tags {}", t.join(",")),
            });
        }
        match parts.is_empty() {
            true => f.write_str("all snapshots"),
            false => f.write_str(&parts.join(", ")),
        }
    }
}

/// The decision for one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub id: SnapshotId,
    pub time_ns: i64,
    pub keep: bool,
    /// The rules that kept it (empty when it is removed).
    pub reasons: Vec<Rule>,
    /// Removed because it was named (`forget <id>`), whatever the policy says.
    pub given: bool,
}

/// One group and its decisions, newest snapshot first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub key: GroupKey,
    pub decisions: Vec<Decision>,
}

/// Newest first; equal times by id, the reverse of the repository's listing order.
fn newest_first(a: &Candidate, b: &Candidate) -> std::cmp::Ordering {
    b.time_ns.cmp(&a.time_ns).then(b.id.cmp(&a.id))
}

/// Applies `policy` to one group of snapshots (in any order); the decisions come newest
/// first. `now_ns` is the current time: a snapshot after it is not taken as the newest one
/// for the `within` rules. An empty policy keeps nothing (see [`Policy::require`]).
pub fn apply_policy(snapshots: &[Candidate], policy: &Policy, now_ns: i64) -> Vec<Decision> {
    let mut list: Vec<&Candidate> = snapshots.iter().collect();
    list.sort_by(|a, b| newest_first(a, b));
    // The newest snapshot that is not in the future; without one, every snapshot is "within".
    let newest = list.iter().map(|c| c.time_ns).filter(|t| *t < now_ns).max();
    let within = |span: Span, t: i64| newest.is_none_or(|n| t > span.before(n));

    struct Counter {
        rule: Option<Period>,
        keep: Keep,
        left: Option<u32>,
        last: Option<i64>,
    }
    let mut counters: Vec<Counter> = std::iter::once((None, policy.last))
        .chain(Period::ALL.iter().map(|p| (Some(*p), policy.every(*p))))
        .filter(|(_, keep)| keep.is_on())
        .map(|(rule, keep)| Counter {
            rule,
            keep,
            left: match keep {
                Keep::Count(n) => Some(n),
                _ => None,
            },
            last: None,
        })
        .collect();
    let mut within_last: BTreeMap<Period, i64> = BTreeMap::new();

    let count = list.len();
    let mut out = Vec::with_capacity(count);
    for (nr, c) in list.iter().enumerate() {
        let mut reasons = Vec::new();
        let oldest = nr + 1 == count;
        for counter in &mut counters {
            if counter.left == Some(0) {
                continue;
            }
            let bucket = match counter.rule {
                Some(p) => p.bucket(c.time_ns),
                None => nr as i64,
            };
            let new_period = counter.last != Some(bucket);
            if new_period || oldest {
                counter.last = Some(bucket);
                if let Some(left) = &mut counter.left {
                    *left -= 1;
                }
                reasons.push(match counter.rule {
                    None => Rule::Last(counter.keep),
                    Some(period) => Rule::Every {
                        period,
                        keep: counter.keep,
                        oldest: !new_period,
                    },
                });
            }
        }
        if let Some(span) = policy.within()
            && within(span, c.time_ns)
        {
            reasons.push(Rule::Within(span));
        }
        for period in Period::ALL {
            let Some(span) = policy.every_within(period) else {
                continue;
            };
            let bucket = period.bucket(c.time_ns);
            if within(span, c.time_ns) && within_last.get(&period) != Some(&bucket) {
                within_last.insert(period, bucket);
                reasons.push(Rule::EveryWithin { period, span });
            }
        }
        for tag in &policy.tags {
            if c.tags.iter().any(|t| t == tag) {
                reasons.push(Rule::Tag(tag.clone()));
            }
        }
        out.push(Decision {
            id: c.id,
            time_ns: c.time_ns,
            keep: !reasons.is_empty(),
            reasons,
            given: false,
        });
    }
    out
}

/// Splits `snapshots` into groups (sorted by key) and decides for each snapshot.
///
/// Snapshots named in `forget` are removed whatever the policy says; the policy is applied to
/// the others. With `forget` empty the policy must not be empty ([`Policy::require`]); with an
/// empty policy only the named snapshots are listed (and removed). A named snapshot missing from
/// `snapshots` is an error.
pub fn plan(
    snapshots: &[Candidate],
    policy: &Policy,
    group_by: GroupBy,
    forget: &[SnapshotId],
    now_ns: i64,
) -> Result<Vec<Group>> {
    if forget.is_empty() {
        policy.require()?;
    }
    let given: BTreeSet<SnapshotId> = forget.iter().copied().collect();
    for id in &given {
        if !snapshots.iter().any(|c| c.id == *id) {
            return Err(Error::NoSuchSnapshot(id.to_hex()));
        }
    }
    let mut groups: BTreeMap<GroupKey, Vec<Candidate>> = BTreeMap::new();
    for c in snapshots {
        if policy.is_empty() && !given.contains(&c.id) {
            continue;
        }
        groups
            .entry(GroupKey::of(c, group_by))
            .or_default()
            .push(c.clone());
    }
    Ok(groups
        .into_iter()
        .map(|(key, members)| {
            let (named, rest): (Vec<Candidate>, Vec<Candidate>) =
                members.into_iter().partition(|c| given.contains(&c.id));
            let mut decisions = match policy.is_empty() {
                true => Vec::new(),
                false => apply_policy(&rest, policy, now_ns),
            };
            decisions.extend(named.iter().map(|c| Decision {
                id: c.id,
                time_ns: c.time_ns,
                keep: false,
                reasons: Vec::new(),
                given: true,
            }));
            decisions.sort_by(|a, b| b.time_ns.cmp(&a.time_ns).then(b.id.cmp(&a.id)));
            Group { key, decisions }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(s: &str) -> Span {
        s.parse().unwrap()
    }

    #[test]
    fn durations_parse_like_restic() {
        assert_eq!(
            span("1y2m3d4h"),
            Span {
                years: 1,
                months: 2,
                days: 3,
                hours: 4
            }
        );
        assert_eq!(
            span("30d"),
            Span {
                days: 30,
                ..Span::default()
            }
        );
        assert_eq!(
            span(" 12h1y "),
            Span {
                years: 1,
                hours: 12,
                ..Span::default()
            }
        );
        assert_eq!(span("1y2m3d4h").to_string(), "1y2m3d4h");
        assert_eq!(span("0y5d").to_string(), "5d");
    }

    #[test]
    fn bad_durations_are_refused_with_the_reason() {
        for (text, why) in [
            ("", "empty"),
            ("   ", "empty"),
            ("d", "expected a number"),
            ("5", "no unit after 5"),
            ("5w", "unknown unit 'w'"),
            ("1d2d", "given twice"),
            ("-3d", "expected a number"),
            ("1.5d", "unknown unit '.'"),
            ("0d", "zero"),
            ("0y0h", "zero"),
            ("99999999999d", "too large"),
            ("3d junk", "expected a number at \" junk\""),
            ("3D", "unknown unit 'D'"),
        ] {
            let err = text.parse::<Span>().unwrap_err().to_string();
            assert!(err.contains(why), "{text:?}: {err}");
            assert!(err.contains("1y2m3d4h"), "{text:?}: {err}");
        }
    }

    #[test]
    fn counts_parse() {
        assert_eq!("3".parse::<Keep>().unwrap(), Keep::Count(3));
        assert_eq!("0".parse::<Keep>().unwrap(), Keep::Off);
        assert_eq!("-1".parse::<Keep>().unwrap(), Keep::All);
        assert_eq!("unlimited".parse::<Keep>().unwrap(), Keep::All);
        for bad in ["-2", "", "x", "1e3", "99999999999"] {
            assert!(bad.parse::<Keep>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn group_by_parses() {
        let g: GroupBy = "host,source".parse().unwrap();
        assert_eq!(g, GroupBy::default());
        let g: GroupBy = "tags".parse().unwrap();
        assert!(g.tags && !g.host && !g.source);
        let g: GroupBy = "".parse().unwrap();
        assert!(!g.tags && !g.host && !g.source);
        assert_eq!(g.to_string(), "");
        let err = "host,paths".parse::<GroupBy>().unwrap_err().to_string();
        assert!(err.contains("\"paths\""), "{err}");
    }

    /// Unix nanoseconds of a UTC date and time.
    fn at(y: i64, mo: u32, d: u32, h: u32) -> i64 {
        (days_from_civil(y, mo, d) * 86_400 + i64::from(h) * 3600) * NS
    }

    #[test]
    fn spans_go_back_in_calendar_time() {
        assert_eq!(span("1m").before(at(2023, 3, 31, 5)), at(2023, 3, 3, 5));
        assert_eq!(span("1m").before(at(2024, 3, 31, 5)), at(2024, 3, 2, 5));
        assert_eq!(span("1y").before(at(2024, 2, 29, 0)), at(2023, 3, 1, 0));
        assert_eq!(
            span("1y2m3d4h").before(at(2026, 5, 10, 2)),
            at(2025, 3, 6, 22)
        );
        assert_eq!(span("13m").before(at(2026, 1, 15, 0)), at(2024, 12, 15, 0));
        let with_fraction = at(2026, 1, 1, 0) + 123;
        assert_eq!(span("2h").before(with_fraction), at(2025, 12, 31, 22) + 123);
    }

    #[test]
    fn weeks_are_iso_weeks_from_monday() {
        // 2024-12-30 (Monday) to 2025-01-05 (Sunday) is ISO week 2025-W01.
        let w = |d: (i64, u32, u32), h| Period::Week.bucket(at(d.0, d.1, d.2, h));
        assert_eq!(w((2024, 12, 30), 0), w((2025, 1, 5), 23));
        assert_ne!(w((2024, 12, 29), 23), w((2024, 12, 30), 0));
        assert_ne!(w((2025, 1, 5), 23), w((2025, 1, 6), 0));
        // Before 1970 too.
        assert_eq!(w((1969, 12, 29), 0), w((1970, 1, 4), 23));
        assert_ne!(w((1969, 12, 28), 23), w((1969, 12, 29), 0));
    }
}
