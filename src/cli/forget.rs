//! `mailvault forget`: removes snapshots by a retention policy (applied per group) or by id.
//! Only snapshot files are removed; the data they alone referenced stays until a prune.

use std::collections::HashMap;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use mailvault::retention::{self, Candidate, Decision, GroupBy, Keep, Policy, Span};
use mailvault::{Snapshot, SnapshotId};
use serde_json::json;

use super::render::{self, Renderer};
use super::{EXIT_INCOMPLETE, EXIT_OK, Global};

#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// Snapshots to forget (`latest`, ids or unique prefixes), whatever the policy says; the
    /// policy applies to the others.
    pub snapshots: Vec<String>,
    /// Keep the N newest snapshots (-1: all).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub keep_last: Option<Keep>,
    /// Keep the newest snapshot of each of the N newest hours that have one (-1: all).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub keep_hourly: Option<Keep>,
    /// Keep the newest snapshot of each of the N newest days that have one (-1: all).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub keep_daily: Option<Keep>,
    /// Keep the newest snapshot of each of the N newest ISO weeks that have one (-1: all).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub keep_weekly: Option<Keep>,
    /// Keep the newest snapshot of each of the N newest months that have one (-1: all).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub keep_monthly: Option<Keep>,
    /// Keep the newest snapshot of each of the N newest years that have one (-1: all).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub keep_yearly: Option<Keep>,
    /// Keep every snapshot newer than DURATION (e.g. 30d, 1y6m, 2d12h) before the newest
    /// snapshot of its group.
    #[arg(long, value_name = "DURATION")]
    pub keep_within: Option<Span>,
    /// Keep the newest snapshot of each hour within DURATION of the group's newest snapshot.
    #[arg(long, value_name = "DURATION")]
    pub keep_within_hourly: Option<Span>,
    /// Keep the newest snapshot of each day within DURATION of the group's newest snapshot.
    #[arg(long, value_name = "DURATION")]
    pub keep_within_daily: Option<Span>,
    /// Keep the newest snapshot of each ISO week within DURATION of the group's newest.
    #[arg(long, value_name = "DURATION")]
    pub keep_within_weekly: Option<Span>,
    /// Keep the newest snapshot of each month within DURATION of the group's newest.
    #[arg(long, value_name = "DURATION")]
    pub keep_within_monthly: Option<Span>,
    /// Keep the newest snapshot of each year within DURATION of the group's newest.
    #[arg(long, value_name = "DURATION")]
    pub keep_within_yearly: Option<Span>,
    /// Keep every snapshot carrying this tag (repeatable).
    #[arg(long = "keep-tag", value_name = "TAG")]
    pub keep_tags: Vec<String>,
    /// Apply the policy to each group of snapshots sharing these fields: any of host, source
    /// and tags, separated by commas; '' for one group.
    #[arg(long, value_name = "FIELDS", default_value = "host,source")]
    pub group_by: GroupBy,
    /// Show what would be removed; remove nothing.
    #[arg(long, short = 'n')]
    pub dry_run: bool,
    /// Remove the data no snapshot needs any more, after forgetting (see `prune`).
    #[arg(long)]
    pub prune: bool,
    /// With --prune: repack a pack when more than this share of it is unused (percent).
    #[arg(
        long,
        value_name = "PERCENT",
        default_value_t = 10.0,
        requires = "prune"
    )]
    pub max_unused: f64,
    /// With --prune: remove packs and raw objects no index lists only when older than this.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = humantime::parse_duration, requires = "prune")]
    pub orphan_margin: std::time::Duration,
}

impl ForgetArgs {
    fn policy(&self) -> Policy {
        Policy {
            last: self.keep_last.unwrap_or_default(),
            hourly: self.keep_hourly.unwrap_or_default(),
            daily: self.keep_daily.unwrap_or_default(),
            weekly: self.keep_weekly.unwrap_or_default(),
            monthly: self.keep_monthly.unwrap_or_default(),
            yearly: self.keep_yearly.unwrap_or_default(),
            within: self.keep_within,
            within_hourly: self.keep_within_hourly,
            within_daily: self.keep_within_daily,
            within_weekly: self.keep_within_weekly,
            within_monthly: self.keep_within_monthly,
            within_yearly: self.keep_within_yearly,
            tags: self.keep_tags.clone(),
        }
    }
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

pub fn run(global: &Global, args: ForgetArgs) -> anyhow::Result<ExitCode> {
    let prune_opts = super::prune::PruneArgs {
        dry_run: false,
        max_unused: args.max_unused,
        orphan_margin: args.orphan_margin,
    }
    .options()?;
    let policy = args.policy();
    if args.snapshots.is_empty() {
        policy.require()?;
    }
    // A dry run changes nothing: it shares the lock with backups.
    let mut repo = match args.dry_run {
        true => super::open_repo(global)?,
        false => super::open_repo_exclusive(global)?,
    };
    if !args.dry_run {
        repo.ensure_writable()?;
    }
    let out = Renderer::new(global.json);
    let (snapshots, unreadable) = repo.snapshots_lenient()?;
    for e in &unreadable {
        let message = format!("snapshot file cannot be read, left as it is: {e}");
        if global.json {
            out.json_line(&json!({"type": "problem", "path": e.path(), "message": message}));
        } else {
            eprintln!("problem: {message}");
        }
    }
    let by_id: HashMap<SnapshotId, &Snapshot> = snapshots.iter().map(|(id, s)| (*id, s)).collect();
    // Named snapshots: those that cannot be read are removed as well (that is how to get rid of
    // a damaged file), outside the policy.
    let mut given = Vec::new();
    let mut given_unreadable = Vec::new();
    for spec in &args.snapshots {
        let id = repo.resolve_snapshot(spec)?;
        let list = match by_id.contains_key(&id) {
            true => &mut given,
            false => &mut given_unreadable,
        };
        if !list.contains(&id) {
            list.push(id);
        }
    }
    let candidates: Vec<Candidate> = snapshots
        .iter()
        .map(|(id, s)| Candidate::new(*id, s))
        .collect();
    let groups = match policy.is_empty() && given.is_empty() {
        true => Vec::new(),
        false => retention::plan(&candidates, &policy, args.group_by, &given, now_ns())?,
    };

    let mut remove: Vec<SnapshotId> = Vec::new();
    let mut kept = 0u64;
    if !global.json {
        match policy.is_empty() {
            true => outln!("policy: none; forgetting the snapshots given"),
            false => outln!("policy: keep {policy} ({})", group_name(args.group_by)),
        }
    }
    for group in &groups {
        let keep_n = group.decisions.iter().filter(|d| d.keep).count();
        if !global.json {
            outln!();
            outln!(
                "{}: keep {}, remove {}",
                group.key,
                keep_n,
                group.decisions.len() - keep_n
            );
            outln!(
                "  {:<8}  {:<20}  {:<6}  {:<16}  reasons",
                "id",
                "time",
                "action",
                "tags"
            );
        }
        for d in &group.decisions {
            let snap = by_id[&d.id];
            if d.keep {
                kept += 1;
            } else {
                remove.push(d.id);
            }
            if global.json {
                out.json_line(&json!({
                    "type": "snapshot",
                    "id": d.id.to_hex(),
                    "time": render::rfc3339(d.time_ns),
                    "time_ns": d.time_ns,
                    "host": snap.host,
                    "source": snap.source,
                    "tags": snap.tags,
                    "group": group.key,
                    "action": action(d),
                    "given": d.given,
                    "reasons": d.reasons,
                }));
            } else {
                outln!(
                    "  {:<8}  {:<20}  {:<6}  {:<16}  {}",
                    d.id.short(),
                    render::rfc3339(d.time_ns),
                    action(d),
                    snap.tags.join(","),
                    reasons_text(d)
                );
            }
        }
    }
    for id in &given_unreadable {
        remove.push(*id);
        if global.json {
            out.json_line(&json!({
                "type": "snapshot",
                "id": id.to_hex(),
                "action": "remove",
                "given": true,
                "reasons": [],
                "unreadable": true,
            }));
        } else {
            outln!(
                "  {:<8}  (unreadable snapshot file)  remove  given",
                id.short()
            );
        }
    }

    // Unreadable snapshot files that stay (those not named): the exit code says so.
    let left_unreadable = unreadable
        .iter()
        .filter(|e| {
            let named = e
                .path()
                .and_then(|p| p.file_name())
                .and_then(|n| n.to_str());
            !given_unreadable
                .iter()
                .any(|id| named == Some(id.to_hex().as_str()))
        })
        .count();
    if !args.dry_run {
        for (done, id) in remove.iter().enumerate() {
            repo.remove_snapshot(id).with_context(|| {
                format!(
                    "{done} of {} snapshots were removed before this error",
                    remove.len()
                )
            })?;
        }
    }
    if global.json {
        out.json_line(&json!({
            "type": "summary",
            "dry_run": args.dry_run,
            "policy": policy.to_string(),
            "group_by": args.group_by.to_string(),
            "kept": kept,
            "removed": remove.len(),
            "removed_ids": remove.iter().map(|id| id.to_hex()).collect::<Vec<_>>(),
            "unreadable": left_unreadable,
        }));
    } else {
        outln!();
        match args.dry_run {
            true => outln!(
                "dry run: would remove {} snapshots, keep {kept}",
                remove.len()
            ),
            false => outln!("removed {} snapshots, kept {kept}", remove.len()),
        }
    }
    let forgot = if left_unreadable == 0 {
        EXIT_OK
    } else {
        EXIT_INCOMPLETE
    };
    if !args.prune {
        return Ok(ExitCode::from(forgot));
    }
    if args.dry_run {
        if !global.json {
            outln!("dry run: prune skipped (it would run on what the forget leaves)");
        }
        return Ok(ExitCode::from(forgot));
    }
    let pruned = super::prune::prune_open(global, &mut repo, &prune_opts)?;
    Ok(if forgot == EXIT_OK {
        pruned
    } else {
        ExitCode::from(forgot)
    })
}

fn action(d: &Decision) -> &'static str {
    if d.keep { "keep" } else { "remove" }
}

fn reasons_text(d: &Decision) -> String {
    if d.given {
        return "given".into();
    }
    let reasons: Vec<String> = d.reasons.iter().map(|r| r.to_string()).collect();
    reasons.join(", ")
}

fn group_name(by: GroupBy) -> String {
    match by.to_string().as_str() {
        "" => "applied to all snapshots as one group".into(),
        fields => format!("applied to each group of {fields}"),
    }
}
