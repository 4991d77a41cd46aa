//! Retention policies (`mailvault::retention`) against expectations worked out by hand: every
//! rule on a small table of snapshots with tricky dates (ISO week and year boundaries, a leap
//! day, two snapshots in one hour, day, week), combinations, and two years of nightly backups of
//! two hosts and two sources, grouped in different ways.

use std::collections::BTreeSet;

use mailvault::SnapshotId;
use mailvault::mox::{parse_rfc3339, rfc3339_nanos};
use mailvault::retention::{
    Candidate, GroupBy, Keep, Period, Policy, Rule, Span, apply_policy, plan,
};

fn t(text: &str) -> i64 {
    parse_rfc3339(text).unwrap_or_else(|| panic!("not a time: {text}"))
}

fn snap(name: &str, time: &str, tags: &[&str]) -> Candidate {
    Candidate {
        id: SnapshotId::hash(name.as_bytes()),
        time_ns: t(time),
        host: "mail1".into(),
        source: "/srv/mox".into(),
        tags: tags.iter().map(|s| s.to_string()).collect(),
    }
}

/// Twelve snapshots of one group. 2024-01-01 is a Monday: s1 to s4 share an ISO week, s5 starts
/// the next; s9 (Tuesday) and s10 (Wednesday) share the week 2025-W01 across the new year; s7
/// is on the leap day; s11 and s12 share a day (a Sunday), in different hours.
fn small() -> Vec<Candidate> {
    vec![
        snap("s1", "2024-01-01T03:00:00Z", &[]),
        snap("s2", "2024-01-01T15:00:00Z", &[]),
        snap("s3", "2024-01-02T03:00:00Z", &["important"]),
        snap("s4", "2024-01-07T03:00:00Z", &[]),
        snap("s5", "2024-01-08T03:00:00Z", &[]),
        snap("s6", "2024-02-15T03:00:00Z", &["important", "manual"]),
        snap("s7", "2024-02-29T23:30:00Z", &[]),
        snap("s8", "2024-03-01T00:30:00Z", &[]),
        snap("s9", "2024-12-31T23:00:00Z", &[]),
        snap("s10", "2025-01-01T01:00:00Z", &[]),
        snap("s11", "2025-06-01T03:00:00Z", &["manual"]),
        snap("s12", "2025-06-01T04:00:00Z", &[]),
    ]
}

/// A time after every snapshot of the tests (none of them is in the future).
fn now() -> i64 {
    t("2026-06-01T00:00:00Z")
}

fn name_of(id: &SnapshotId, list: &[Candidate], names: &[&str]) -> String {
    for n in names {
        if SnapshotId::hash(n.as_bytes()) == *id {
            return n.to_string();
        }
    }
    let c = list.iter().find(|c| c.id == *id).unwrap();
    rfc3339_nanos(c.time_ns)
}

const NAMES: [&str; 13] = [
    "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "future",
];

/// The names of the snapshots `policy` keeps of `list` (one group), newest first.
fn kept(list: &[Candidate], policy: &Policy) -> Vec<String> {
    let decisions = apply_policy(list, policy, now());
    assert_eq!(decisions.len(), list.len());
    decisions
        .iter()
        .filter(|d| d.keep)
        .map(|d| name_of(&d.id, list, &NAMES))
        .collect()
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn span(s: &str) -> Option<Span> {
    Some(s.parse().unwrap())
}

#[test]
fn keep_last() {
    let p = |n| Policy {
        last: Keep::Count(n),
        ..Policy::default()
    };
    assert_eq!(kept(&small(), &p(3)), names(&["s12", "s11", "s10"]));
    assert_eq!(kept(&small(), &p(1)), names(&["s12"]));
    assert_eq!(kept(&small(), &p(50)).len(), 12);
    let all = Policy {
        last: Keep::All,
        ..Policy::default()
    };
    assert_eq!(kept(&small(), &all).len(), 12);
}

#[test]
fn keep_hourly_and_daily() {
    let hourly = Policy {
        hourly: Keep::Count(3),
        ..Policy::default()
    };
    assert_eq!(kept(&small(), &hourly), names(&["s12", "s11", "s10"]));
    let daily = |n| Policy {
        daily: Keep::Count(n),
        ..Policy::default()
    };
    // s11 shares s12's day: the newest of the day is kept, and the day counts once.
    assert_eq!(kept(&small(), &daily(3)), names(&["s12", "s10", "s9"]));
    assert_eq!(
        kept(&small(), &daily(5)),
        names(&["s12", "s10", "s9", "s8", "s7"])
    );
    // Unlimited: the newest of every day, and the oldest snapshot (s1 shares its day with s2).
    let all = Policy {
        daily: Keep::All,
        ..Policy::default()
    };
    let all = kept(&small(), &all);
    assert_eq!(
        all,
        names(&[
            "s12", "s10", "s9", "s8", "s7", "s6", "s5", "s4", "s3", "s2", "s1"
        ])
    );
}

#[test]
fn keep_weekly_uses_iso_weeks() {
    let weekly = |n| Policy {
        weekly: Keep::Count(n),
        ..Policy::default()
    };
    // s9 and s10 share the week 2025-W01; s7 and s8 the week of 2024-02-26.
    assert_eq!(kept(&small(), &weekly(3)), names(&["s12", "s10", "s8"]));
    // s4 (Sunday) and s5 (Monday) are in different weeks.
    assert_eq!(
        kept(&small(), &weekly(6)),
        names(&["s12", "s10", "s8", "s6", "s5", "s4"])
    );
    // Counts left after the last week: the oldest snapshot is kept too, and says so.
    let p = weekly(8);
    assert_eq!(
        kept(&small(), &p),
        names(&["s12", "s10", "s8", "s6", "s5", "s4", "s1"])
    );
    let decisions = apply_policy(&small(), &p, now());
    let oldest = decisions.last().unwrap();
    assert_eq!(oldest.id, SnapshotId::hash(b"s1"));
    assert_eq!(
        oldest.reasons,
        vec![Rule::Every {
            period: Period::Week,
            keep: Keep::Count(8),
            oldest: true
        }]
    );
    assert_eq!(oldest.reasons[0].to_string(), "weekly 8 (oldest)");
}

#[test]
fn keep_monthly_and_yearly() {
    let monthly = |n| Policy {
        monthly: Keep::Count(n),
        ..Policy::default()
    };
    assert_eq!(kept(&small(), &monthly(3)), names(&["s12", "s10", "s9"]));
    // s7 is the newest of February 2024 (s6 is older), s5 of January.
    assert_eq!(
        kept(&small(), &monthly(6)),
        names(&["s12", "s10", "s9", "s8", "s7", "s5"])
    );
    let yearly = |keep| Policy {
        yearly: keep,
        ..Policy::default()
    };
    assert_eq!(kept(&small(), &yearly(Keep::Count(1))), names(&["s12"]));
    assert_eq!(
        kept(&small(), &yearly(Keep::Count(2))),
        names(&["s12", "s9"])
    );
    // Two years only: the oldest snapshot is kept as well, counted or unlimited.
    assert_eq!(
        kept(&small(), &yearly(Keep::Count(5))),
        names(&["s12", "s9", "s1"])
    );
    assert_eq!(
        kept(&small(), &yearly(Keep::All)),
        names(&["s12", "s9", "s1"])
    );
}

#[test]
fn keep_within_is_relative_to_the_newest_snapshot() {
    let within = |s| Policy {
        within: span(s),
        ..Policy::default()
    };
    // Newest: s12, 2025-06-01T04:00. Strictly newer than the cut: s11 is exactly 1h older.
    assert_eq!(kept(&small(), &within("1h")), names(&["s12"]));
    assert_eq!(kept(&small(), &within("2d")), names(&["s12", "s11"]));
    assert_eq!(
        kept(&small(), &within("6m")),
        names(&["s12", "s11", "s10", "s9"])
    );
    // 1y3m back is 2024-03-01T04:00 (s8 at 00:30 is older); one more day reaches back to
    // the leap day, 2024-02-29T04:00.
    assert_eq!(
        kept(&small(), &within("1y3m")),
        names(&["s12", "s11", "s10", "s9"])
    );
    assert_eq!(
        kept(&small(), &within("1y3m1d")),
        names(&["s12", "s11", "s10", "s9", "s8", "s7"])
    );
    let d = apply_policy(&small(), &within("2d"), now());
    assert_eq!(
        d[0].reasons,
        vec![Rule::Within(Span {
            days: 2,
            ..Span::default()
        })]
    );
    assert_eq!(d[0].reasons[0].to_string(), "within 2d");
}

#[test]
fn a_snapshot_from_the_future_is_not_the_newest() {
    let mut list = small();
    list.push(snap("future", "2099-01-01T00:00:00Z", &[]));
    let p = Policy {
        within: span("2d"),
        ..Policy::default()
    };
    // Relative to s12 (the newest before now); the future one is newer than the cut too.
    assert_eq!(kept(&list, &p), names(&["future", "s12", "s11"]));
}

#[test]
fn keep_within_periods() {
    let p = |f: fn(&mut Policy)| Policy::default().clone_with(f);
    // Cut 2024-06-01T04:00: the newest of each day, week, ... in the window; no oldest rule.
    assert_eq!(
        kept(&small(), &p(|p| p.within_daily = span("1y"))),
        names(&["s12", "s10", "s9"])
    );
    assert_eq!(
        kept(&small(), &p(|p| p.within_weekly = span("1y"))),
        names(&["s12", "s10"])
    );
    assert_eq!(
        kept(&small(), &p(|p| p.within_hourly = span("1d"))),
        names(&["s12", "s11"])
    );
    assert_eq!(
        kept(&small(), &p(|p| p.within_monthly = span("2y"))),
        names(&["s12", "s10", "s9", "s8", "s7", "s5"])
    );
    assert_eq!(
        kept(&small(), &p(|p| p.within_yearly = span("10y"))),
        names(&["s12", "s9"])
    );
    let d = apply_policy(&small(), &p(|p| p.within_daily = span("1y")), now());
    assert_eq!(d[0].reasons[0].to_string(), "daily within 1y");
}

#[test]
fn keep_tag() {
    let tags = |list: &[&str]| Policy {
        tags: names(list),
        ..Policy::default()
    };
    assert_eq!(kept(&small(), &tags(&["important"])), names(&["s6", "s3"]));
    assert_eq!(
        kept(&small(), &tags(&["important", "manual"])),
        names(&["s11", "s6", "s3"])
    );
    // A tag no snapshot carries is still a policy: it keeps nothing.
    assert!(kept(&small(), &tags(&["nope"])).is_empty());
    let d = apply_policy(&small(), &tags(&["important", "manual"]), now());
    let s6 = d.iter().find(|d| d.id == SnapshotId::hash(b"s6")).unwrap();
    assert_eq!(
        s6.reasons,
        vec![Rule::Tag("important".into()), Rule::Tag("manual".into())]
    );
}

#[test]
fn combined_rules_list_every_reason() {
    let p = Policy {
        last: Keep::Count(2),
        monthly: Keep::Count(3),
        tags: names(&["important"]),
        ..Policy::default()
    };
    let list = small();
    let got: Vec<(String, Vec<String>)> = apply_policy(&list, &p, now())
        .iter()
        .filter(|d| d.keep)
        .map(|d| {
            (
                name_of(&d.id, &list, &NAMES),
                d.reasons.iter().map(Rule::to_string).collect(),
            )
        })
        .collect();
    let want: Vec<(String, Vec<String>)> = [
        ("s12", vec!["last 2", "monthly 3"]),
        ("s11", vec!["last 2"]),
        ("s10", vec!["monthly 3"]),
        ("s9", vec!["monthly 3"]),
        ("s6", vec!["tag important"]),
        ("s3", vec!["tag important"]),
    ]
    .iter()
    .map(|(n, r)| (n.to_string(), names(r)))
    .collect();
    assert_eq!(got, want);
    assert_eq!(p.to_string(), "last 2, monthly 3, tag important");

    let p = Policy {
        daily: Keep::Count(2),
        weekly: Keep::Count(2),
        yearly: Keep::Count(3),
        ..Policy::default()
    };
    let d = apply_policy(&list, &p, now());
    let reasons = |name: &str| -> Vec<String> {
        let id = SnapshotId::hash(name.as_bytes());
        let d = d.iter().find(|d| d.id == id).unwrap();
        d.reasons.iter().map(Rule::to_string).collect()
    };
    assert_eq!(kept(&list, &p), names(&["s12", "s10", "s9", "s1"]));
    assert_eq!(reasons("s12"), names(&["daily 2", "weekly 2", "yearly 3"]));
    assert_eq!(reasons("s10"), names(&["daily 2", "weekly 2"]));
    assert_eq!(reasons("s9"), names(&["yearly 3"]));
    assert_eq!(reasons("s1"), names(&["yearly 3 (oldest)"]));
    assert!(reasons("s11").is_empty());
}

#[test]
fn an_empty_policy_removes_nothing_without_named_snapshots() {
    let err = plan(&small(), &Policy::default(), GroupBy::default(), &[], now()).unwrap_err();
    assert!(err.to_string().contains("no policy given"), "{err}");
    // Counts of zero and zero spans are no policy either.
    let zero = Policy {
        last: Keep::Count(0),
        daily: Keep::Off,
        within: Some(Span::default()),
        ..Policy::default()
    };
    assert!(zero.is_empty());
    assert!(plan(&small(), &zero, GroupBy::default(), &[], now()).is_err());

    // Named snapshots alone: only they are listed, and removed.
    let given = [SnapshotId::hash(b"s3"), SnapshotId::hash(b"s7")];
    let groups = plan(
        &small(),
        &Policy::default(),
        GroupBy::default(),
        &given,
        now(),
    )
    .unwrap();
    assert_eq!(groups.len(), 1);
    let d = &groups[0].decisions;
    assert_eq!(d.len(), 2);
    assert_eq!((d[0].id, d[1].id), (given[1], given[0]), "newest first");
    assert!(d.iter().all(|d| d.given && !d.keep && d.reasons.is_empty()));

    // A snapshot that is not there is an error.
    let missing = [SnapshotId::hash(b"nope")];
    assert!(
        plan(
            &small(),
            &Policy::default(),
            GroupBy::default(),
            &missing,
            now()
        )
        .is_err()
    );
}

#[test]
fn named_snapshots_go_and_the_policy_applies_to_the_others() {
    let p = Policy {
        last: Keep::Count(2),
        ..Policy::default()
    };
    let given = [SnapshotId::hash(b"s12"), SnapshotId::hash(b"s1")];
    let groups = plan(&small(), &p, GroupBy::default(), &given, now()).unwrap();
    let d = &groups[0].decisions;
    assert_eq!(d.len(), 12);
    let list = small();
    let kept: Vec<String> = d
        .iter()
        .filter(|d| d.keep)
        .map(|d| name_of(&d.id, &list, &NAMES))
        .collect();
    assert_eq!(kept, names(&["s11", "s10"]));
    let given_out: Vec<String> = d
        .iter()
        .filter(|d| d.given)
        .map(|d| name_of(&d.id, &list, &NAMES))
        .collect();
    assert_eq!(given_out, names(&["s12", "s1"]));
}

// Two years of nightly backups.

const DAY: i64 = 86_400 * 1_000_000_000;

fn series(host: &str, source: &str, first: &str, last: &str, step: i64) -> Vec<Candidate> {
    let (mut at, end) = (t(first), t(last));
    let mut out = Vec::new();
    while at <= end {
        out.push(Candidate {
            id: SnapshotId::hash(format!("{host} {source} {at}").as_bytes()),
            time_ns: at,
            host: host.into(),
            source: source.into(),
            tags: Vec::new(),
        });
        at += step;
    }
    out
}

fn extra(host: &str, source: &str, time: &str, tags: &[&str]) -> Candidate {
    Candidate {
        id: SnapshotId::hash(format!("extra {host} {source} {time}").as_bytes()),
        time_ns: t(time),
        host: host.into(),
        source: source.into(),
        tags: tags.iter().map(|s| s.to_string()).collect(),
    }
}

/// mail1:/srv/mox nightly at 03:00 for two years (2024 is a leap year: 731 nights) with three
/// extra snapshots; mail1:/etc on the first of each month of 2025; mail2:/srv/mox nightly at
/// 02:00 from October 1 to November 20, 2025 (then its backups stopped).
fn two_years() -> Vec<Candidate> {
    let mut all = series(
        "mail1",
        "/srv/mox",
        "2024-01-01T03:00:00Z",
        "2025-12-31T03:00:00Z",
        DAY,
    );
    assert_eq!(all.len(), 731);
    all.push(extra(
        "mail1",
        "/srv/mox",
        "2025-12-31T12:00:00Z",
        &["manual"],
    ));
    all.push(extra(
        "mail1",
        "/srv/mox",
        "2025-06-15T10:00:00Z",
        &["before-upgrade"],
    ));
    all.push(extra("mail1", "/srv/mox", "2024-07-04T18:00:00Z", &[]));
    for month in 1..=12 {
        all.push(extra(
            "mail1",
            "/etc",
            &format!("2025-{month:02}-01T04:00:00Z"),
            &[],
        ));
    }
    all.extend(series(
        "mail2",
        "/srv/mox",
        "2025-10-01T02:00:00Z",
        "2025-11-20T02:00:00Z",
        DAY,
    ));
    all
}

/// The kept times of each group, newest first, with the group's name.
fn kept_by_group(
    list: &[Candidate],
    policy: &Policy,
    by: &str,
    now: &str,
) -> Vec<(String, Vec<String>)> {
    plan(list, policy, by.parse().unwrap(), &[], t(now))
        .unwrap()
        .into_iter()
        .map(|g| {
            let kept = g
                .decisions
                .iter()
                .filter(|d| d.keep)
                .map(|d| rfc3339_nanos(d.time_ns))
                .collect();
            (g.key.to_string(), kept)
        })
        .collect()
}

fn times(list: &[&str]) -> Vec<String> {
    list.iter().map(|d| format!("{d}Z")).collect()
}

#[test]
fn nightly_backups_with_a_typical_policy() {
    let p = Policy {
        daily: Keep::Count(7),
        weekly: Keep::Count(4),
        monthly: Keep::Count(12),
        yearly: Keep::Count(5),
        tags: names(&["before-upgrade"]),
        ..Policy::default()
    };
    let got = kept_by_group(&two_years(), &p, "host,source", "2026-01-01T00:00:00Z");
    let want = vec![
        (
            "host mail1, source /etc".to_string(),
            // Monthly 12 covers the twelve; the oldest is the newest of its month anyway.
            times(&[
                "2025-12-01T04:00:00",
                "2025-11-01T04:00:00",
                "2025-10-01T04:00:00",
                "2025-09-01T04:00:00",
                "2025-08-01T04:00:00",
                "2025-07-01T04:00:00",
                "2025-06-01T04:00:00",
                "2025-05-01T04:00:00",
                "2025-04-01T04:00:00",
                "2025-03-01T04:00:00",
                "2025-02-01T04:00:00",
                "2025-01-01T04:00:00",
            ]),
        ),
        (
            "host mail1, source /srv/mox".to_string(),
            times(&[
                // daily 7 (the extra at 12:00 is the newest of Dec 31), weekly, monthly and
                // yearly for 2025 too
                "2025-12-31T12:00:00",
                "2025-12-30T03:00:00",
                "2025-12-29T03:00:00",
                // Sunday: the newest of the week Dec 22-28, and daily
                "2025-12-28T03:00:00",
                "2025-12-27T03:00:00",
                "2025-12-26T03:00:00",
                "2025-12-25T03:00:00",
                // weekly: the Sundays of the two weeks before
                "2025-12-21T03:00:00",
                "2025-12-14T03:00:00",
                // monthly: the last night of each month back to January 2025
                "2025-11-30T03:00:00",
                "2025-10-31T03:00:00",
                "2025-09-30T03:00:00",
                "2025-08-31T03:00:00",
                "2025-07-31T03:00:00",
                "2025-06-30T03:00:00",
                // tag before-upgrade
                "2025-06-15T10:00:00",
                "2025-05-31T03:00:00",
                "2025-04-30T03:00:00",
                "2025-03-31T03:00:00",
                "2025-02-28T03:00:00",
                "2025-01-31T03:00:00",
                // yearly 2024, and the oldest (yearly has counts left)
                "2024-12-31T03:00:00",
                "2024-01-01T03:00:00",
            ]),
        ),
        (
            "host mail2, source /srv/mox".to_string(),
            times(&[
                // daily 7 (Nov 16 is also the Sunday of its week)
                "2025-11-20T02:00:00",
                "2025-11-19T02:00:00",
                "2025-11-18T02:00:00",
                "2025-11-17T02:00:00",
                "2025-11-16T02:00:00",
                "2025-11-15T02:00:00",
                "2025-11-14T02:00:00",
                // weekly 4: the Sundays of two more weeks
                "2025-11-09T02:00:00",
                "2025-11-02T02:00:00",
                // monthly: October, and the oldest (monthly and yearly have counts left)
                "2025-10-31T02:00:00",
                "2025-10-01T02:00:00",
            ]),
        ),
    ];
    assert_eq!(got, want);
}

#[test]
fn keep_within_counts_from_each_groups_newest_snapshot() {
    let p = Policy {
        within: span("10d"),
        ..Policy::default()
    };
    let got = kept_by_group(&two_years(), &p, "host", "2026-03-01T00:00:00Z");
    // mail2 stopped on November 20: its last ten days are kept, not nothing. The cut
    // (2025-11-10T02:00) itself is not newer than the cut.
    let mail2: Vec<String> = (11..=20)
        .rev()
        .map(|d| format!("2025-11-{d:02}T02:00:00Z"))
        .collect();
    // mail1 groups /srv/mox and /etc: back to 2025-12-21T12:00 (ten days before the extra).
    let mail1 = times(&[
        "2025-12-31T12:00:00",
        "2025-12-31T03:00:00",
        "2025-12-30T03:00:00",
        "2025-12-29T03:00:00",
        "2025-12-28T03:00:00",
        "2025-12-27T03:00:00",
        "2025-12-26T03:00:00",
        "2025-12-25T03:00:00",
        "2025-12-24T03:00:00",
        "2025-12-23T03:00:00",
        "2025-12-22T03:00:00",
    ]);
    assert_eq!(
        got,
        vec![
            ("host mail1".to_string(), mail1),
            ("host mail2".to_string(), mail2)
        ]
    );
}

#[test]
fn group_by_decides_what_counts_together() {
    let p = Policy {
        last: Keep::Count(3),
        ..Policy::default()
    };
    let list = two_years();
    // By source: mail1 and mail2 of /srv/mox in one group, whose newest three are mail1's.
    let got = kept_by_group(&list, &p, "source", "2026-01-01T00:00:00Z");
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, "source /etc");
    assert_eq!(
        got[1],
        (
            "source /srv/mox".to_string(),
            times(&[
                "2025-12-31T12:00:00",
                "2025-12-31T03:00:00",
                "2025-12-30T03:00:00"
            ])
        )
    );
    // One group for everything: the same three.
    let got = kept_by_group(&list, &p, "", "2026-01-01T00:00:00Z");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "all snapshots");
    assert_eq!(
        got[0].1,
        times(&[
            "2025-12-31T12:00:00",
            "2025-12-31T03:00:00",
            "2025-12-30T03:00:00"
        ])
    );
    // By tags: the tag sets {}, {before-upgrade}, {manual} are three groups.
    let got = kept_by_group(&list, &p, "tags", "2026-01-01T00:00:00Z");
    let keys: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["no tags", "tags before-upgrade", "tags manual"]);
    assert_eq!(
        got[0].1,
        times(&[
            "2025-12-31T03:00:00",
            "2025-12-30T03:00:00",
            "2025-12-29T03:00:00"
        ])
    );
    assert_eq!(got[1].1, times(&["2025-06-15T10:00:00"]));
    assert_eq!(got[2].1, times(&["2025-12-31T12:00:00"]));
    // Every snapshot is decided exactly once, whatever the grouping.
    for by in [
        "host,source",
        "host",
        "source",
        "tags",
        "host,source,tags",
        "",
    ] {
        let groups = plan(
            &list,
            &p,
            by.parse().unwrap(),
            &[],
            t("2026-01-01T00:00:00Z"),
        )
        .unwrap();
        let ids: BTreeSet<SnapshotId> = groups
            .iter()
            .flat_map(|g| g.decisions.iter().map(|d| d.id))
            .collect();
        let count: usize = groups.iter().map(|g| g.decisions.len()).sum();
        assert_eq!((ids.len(), count), (list.len(), list.len()), "{by}");
    }
}

/// Test helper: a policy changed by a closure.
trait CloneWith {
    fn clone_with(&self, f: impl FnOnce(&mut Policy)) -> Policy;
}

impl CloneWith for Policy {
    fn clone_with(&self, f: impl FnOnce(&mut Policy)) -> Policy {
        let mut p = self.clone();
        f(&mut p);
        p
    }
}
