//! Each projector on event sequences from fuzz input.
//!
//! The events go through [`apply_once`], as the runner applies them, with
//! redeliveries of applied events, commits (state and checkpoint in one
//! batch) and crashes (the uncommitted batch is lost; consumption resumes
//! after the checkpoint). Invariants, for every projector:
//! - `apply` never panics and never fails: it is total (an event it does not
//!   understand is ignored) and the database is healthy;
//! - a redelivered event is not applied again;
//! - the database equals, byte for byte, a rebuild that applies the distinct
//!   events once, in order, in one batch;
//! - each read model is consistent ([`check_directory`], [`check_reports`],
//!   [`check_critical`], [`check_rates`]).

use lantern_directory::{DirectoryProjector, HospitalRecord, IdempotencyRecord, TokenRecord};
use lantern_domain::figures::rate;
use lantern_intake::critical::{CriticalValue, CriticalValuesProjector};
use lantern_intake::reports::{Listing, ReportRecord, ReportsProjector, Status, read_report};
use lantern_ledger::Recorded;
use lantern_mortality::MortalityProjector;
use lantern_mortality::death::Death;
use lantern_projection::{FreshRun, Projector, Sealed, Tx, apply_once, checkpoint, export};
use lantern_rates::RatesProjector;
use lantern_rates::api::CriticalValueFigures;
use lantern_rates::projector::every_cell;
use lantern_rca::RcaProjector;
use lantern_rca::projector::{CaseRecord, ReportInfo};
use uuid::Uuid;

use crate::scenario::{Op, ops};

/// The fuzz body for the directory projector.
pub fn project_directory(data: &[u8]) {
    let (db, last) = run(&DirectoryProjector, data);
    check_directory(&db, last);
}

/// The fuzz body for the reports projector.
pub fn project_reports(data: &[u8]) {
    let (db, _) = run(&ReportsProjector, data);
    check_reports(&db);
}

/// The fuzz body for the critical-values projector.
pub fn project_critical(data: &[u8]) {
    let (db, _) = run(&CriticalValuesProjector, data);
    check_critical(&db);
}

/// The fuzz body for the rates projector.
pub fn project_rates(data: &[u8]) {
    let (db, _) = run(&RatesProjector, data);
    check_rates(&db);
}

/// The fuzz body for the rca projector.
pub fn project_rca(data: &[u8]) {
    let (db, _) = run(&RcaProjector, data);
    check_rca(&db);
}

/// The fuzz body for the mortality projector.
pub fn project_mortality(data: &[u8]) {
    let (db, _) = run(&MortalityProjector, data);
    check_mortality(&db);
}

/// A fresh in-memory database.
pub fn temporary() -> sled::Db {
    sled::Config::new()
        .temporary(true)
        .open()
        .expect("a temporary sled database opens")
}

fn dump(db: &sled::Db) -> Vec<u8> {
    let mut out = Vec::new();
    export(db, &mut out).expect("export");
    out
}

fn apply(projector: &dyn Projector, tx: &mut Tx<'_>, position: &mut u64, event: &Recorded) -> bool {
    apply_once(projector, tx, position, event).unwrap_or_else(|e| {
        panic!(
            "{} failed on seq {} ({}): {e}\nenvelope: {:?}",
            projector.name(),
            event.seq,
            event.envelope.event_type,
            event.envelope
        )
    })
}

/// Applies the scenario of `data`; checks redelivery and rebuild equality.
/// Returns the live database and the last sequence of the stream.
pub fn run(projector: &dyn Projector, data: &[u8]) -> (sled::Db, u64) {
    let live = temporary();
    let mut stream: Vec<Recorded> = Vec::new();
    // Where the live run committed: the rebuild commits its batches there.
    let mut commits = std::collections::BTreeSet::new();
    {
        let mut tx = Tx::new(&live);
        let mut position = 0;
        for op in ops(data) {
            match op {
                Op::Deliver(event) => {
                    stream.push(*event);
                    // After a crash the consumer first catches up from the
                    // checkpoint, in order.
                    let from = usize::try_from(position).unwrap_or(usize::MAX);
                    for event in stream.get(from..).unwrap_or_default() {
                        assert!(
                            apply(projector, &mut tx, &mut position, event),
                            "a new event was taken for a redelivery"
                        );
                    }
                }
                Op::Redeliver(i) => {
                    let applied = usize::try_from(position).unwrap_or(0);
                    if applied > 0 {
                        let event = &stream[i % applied];
                        assert!(
                            !apply(projector, &mut tx, &mut position, event),
                            "seq {} was applied twice",
                            event.seq
                        );
                    }
                }
                Op::Commit => {
                    let done = std::mem::replace(&mut tx, Tx::new(&live));
                    live.apply_batch(done.into_batch(position)).expect("commit");
                    commits.insert(position);
                }
                Op::Crash => {
                    tx = Tx::new(&live);
                    position = checkpoint(&live).expect("checkpoint");
                }
            }
        }
        let from = usize::try_from(position).unwrap_or(usize::MAX);
        for event in stream.get(from..).unwrap_or_default() {
            apply(projector, &mut tx, &mut position, event);
        }
        live.apply_batch(tx.into_batch(position)).expect("commit");
    }
    let last = stream.last().map_or(0, |e| e.seq);

    // Rebuilt as `lantern rebuild` does: over a fresh database, in batches
    // that carry what the run knows (written keys, values kept decoded)
    // from one to the next, each sealed batch reaching the database only
    // after the next one was applied reading through it (the rebuild's
    // pipeline at its slowest disk).
    let rebuilt = temporary();
    let mut run = FreshRun::default();
    let mut sealed: Option<Sealed> = None;
    let mut tx = Tx::over_fresh(&rebuilt, &mut run);
    let mut position = 0;
    for event in &stream {
        apply(projector, &mut tx, &mut position, event);
        if commits.contains(&position) {
            let done = tx.seal(position);
            if let Some(earlier) = sealed.replace(done.clone()) {
                earlier.apply(&rebuilt).expect("commit");
            }
            tx = Tx::over_fresh(&rebuilt, &mut run).reading_through(done);
        }
    }
    if let Some(earlier) = sealed {
        earlier.apply(&rebuilt).expect("commit");
    }
    tx.commit(position).expect("commit");
    // What the run held back, in small batches (several, in a long run).
    while let Some(held) = run.release(position, 3) {
        held.apply(&rebuilt).expect("commit");
    }
    run.finish(position).apply(&rebuilt).expect("commit");
    assert!(
        dump(&live) == dump(&rebuilt),
        "{}: the live database differs from a rebuild",
        projector.name()
    );
    (live, last)
}

fn json<T: serde::de::DeserializeOwned>(key: &[u8], value: &[u8]) -> T {
    serde_json::from_slice(value).unwrap_or_else(|e| {
        panic!(
            "{} does not hold its type: {e}: {}",
            String::from_utf8_lossy(key),
            String::from_utf8_lossy(value)
        )
    })
}

/// A value stored in its postcard form ([`lantern_projection::Stored`]).
fn postcard<T: lantern_projection::Stored>(key: &[u8], value: &[u8]) -> T {
    T::decode(key, value).unwrap_or_else(|e| {
        panic!(
            "{} does not hold its type: {e}",
            String::from_utf8_lossy(key)
        )
    })
}

fn entries(db: &sled::Db, prefix: &str) -> Vec<(String, Vec<u8>)> {
    db.scan_prefix(prefix)
        .map(|kv| {
            let (k, v) = kv.expect("read");
            (String::from_utf8_lossy(&k).into_owned(), v.to_vec())
        })
        .collect()
}

/// Hospitals, tokens and idempotency records read back as their types; a
/// hospital is stored under its own code; an idempotency record points into
/// the stream.
pub fn check_directory(db: &sled::Db, last: u64) {
    for (key, value) in entries(db, "h/") {
        let h: HospitalRecord = json(key.as_bytes(), &value);
        assert_eq!(key, format!("h/{}", h.code));
    }
    for (key, value) in entries(db, "t/") {
        let _: TokenRecord = json(key.as_bytes(), &value);
    }
    for (key, value) in entries(db, "i/") {
        let r: IdempotencyRecord = json(key.as_bytes(), &value);
        assert!(
            (1..=last).contains(&r.seq),
            "{key}: seq {} of {last}",
            r.seq
        );
    }
}

fn status_of(r: &ReportRecord) -> Status {
    if !r.rcas_open.is_empty() {
        Status::UnderAnalysis
    } else if !r.rcas_closed.is_empty() {
        Status::Closed
    } else if r.triage.is_some() {
        Status::Triaged
    } else {
        Status::Received
    }
}

/// Every report reads back, its status agrees with its triage and analyses,
/// it has one lesson per closed analysis, it is listed once, under its
/// hospital and the month it was filed in, and the receipt index points at
/// reports that exist.
pub fn check_reports(db: &sled::Db) {
    let tx = Tx::new(db);
    let records = entries(db, "r/");
    for (key, value) in &records {
        let r: ReportRecord = postcard(key.as_bytes(), value);
        assert_eq!(key, &format!("r/{}", r.report_id));
        assert_eq!(r.status, status_of(&r), "{key}: {r:?}");
        assert_eq!(r.lessons.len(), r.rcas_closed.len(), "{key}: {r:?}");
    }
    let mut listed = std::collections::HashSet::new();
    for (key, value) in entries(db, "l/") {
        let listing: Listing = postcard(key.as_bytes(), &value);
        for id in listing.ids {
            let r = read_report(&tx, id)
                .expect("read")
                .unwrap_or_else(|| panic!("{key} lists report {id}, which does not exist"));
            let month = r.filed_on.format("%Y-%m");
            assert_eq!(key, format!("l/{}/{month}", r.hospital), "{id}");
            assert!(listed.insert(id), "{id} listed twice");
        }
    }
    assert_eq!(listed.len(), records.len(), "every report is listed");
    for (key, value) in entries(db, "x/") {
        let id: Uuid = json(key.as_bytes(), &value);
        assert!(
            read_report(&tx, id).expect("read").is_some(),
            "{key} points at report {id}, which does not exist"
        );
    }
}

/// Every critical value reads back, and it is on its hospital's worklist
/// exactly while it is not handled.
pub fn check_critical(db: &sled::Db) {
    let tx = Tx::new(db);
    for (key, value) in entries(db, "v/") {
        let cv: CriticalValue = postcard(key.as_bytes(), &value);
        let open = format!("o/{}/{}", cv.hospital, cv.critical_value_id);
        let listed = tx.get(open.as_bytes()).expect("read").is_some();
        assert_eq!(
            listed,
            cv.handled.is_none(),
            "{key}: on the worklist = {listed}, handled = {:?}",
            cv.handled
        );
    }
    for (key, _) in entries(db, "o/") {
        let id = key.rsplit('/').next().unwrap_or_default();
        let cv: Option<CriticalValue> = tx.get_stored(format!("v/{id}").as_bytes()).expect("read");
        assert!(
            cv.is_some_and(|cv| cv.handled.is_none() && key == format!("o/{}/{id}", cv.hospital)),
            "{key} is on a worklist but is not an open critical value of that hospital"
        );
    }
}

/// Every cell: its breakdowns add up to its reports; its critical-value
/// counts nest (in time ≤ notified ≤ detected, handled in time ≤ notified,
/// handled ≤ detected); every percentage is within 0..=100.
pub fn check_rates(db: &sled::Db) {
    for (hospital, month, department, c) in every_cell(db).expect("every month holds cells") {
        let key = format!("{hospital}/{month}/{department}");
        assert_eq!(c.by_grade.iter().sum::<u64>(), c.reports, "{key}: {c:?}");
        assert_eq!(
            c.by_category.values().sum::<u64>(),
            c.reports,
            "{key}: {c:?}"
        );
        let v = &c.critical_values;
        for (num, den, what) in [
            (v.notified, v.detected, "notified of detected"),
            (
                v.notified_in_time,
                v.notified,
                "notified in time of notified",
            ),
            (v.handled, v.detected, "handled of detected"),
            (v.handled_in_time, v.notified, "handled in time of notified"),
        ] {
            assert!(num <= den, "{key}: {what}: {num} > {den}: {c:?}");
            if let Some(r) = rate(num, den) {
                assert!((0.0..=100.0).contains(&r), "{key}: {what}: rate {r}");
            }
        }
        let figures = CriticalValueFigures::of(v, None, &mut Vec::new());
        for r in [
            figures.notification_rate,
            figures.notification_timeliness,
            figures.handling_timeliness,
        ]
        .into_iter()
        .flatten()
        {
            assert!((0.0..=100.0).contains(&r), "{key}: rate {r}: {c:?}");
        }
    }
}

/// Every case file reads back under its own id; the hospital lists point at
/// its cases; the queue holds exactly the reports that need an analysis;
/// each month's figures count nothing negative and keep shares within
/// 0..=100.
pub fn check_rca(db: &sled::Db) {
    let tx = Tx::new(db);
    let mut cases = Vec::new();
    for (key, value) in entries(db, "c/") {
        let r: CaseRecord = json(key.as_bytes(), &value);
        assert_eq!(key, format!("c/{}", r.rca_id));
        cases.push(r);
    }
    for (key, value) in entries(db, "h/") {
        let id: Uuid = json(key.as_bytes(), &value);
        let r: Option<CaseRecord> = tx.get_json(format!("c/{id}").as_bytes()).expect("read");
        assert!(
            r.is_some_and(|r| key.starts_with(&format!("h/{}/", r.hospital))),
            "{key} lists case {id}, which is not a case of that hospital"
        );
    }
    let mut queued = Vec::new();
    for (key, value) in entries(db, "q/") {
        let id: Uuid = json(key.as_bytes(), &value);
        let r: Option<ReportInfo> = tx.get_json(format!("p/{id}").as_bytes()).expect("read");
        assert!(
            r.is_some_and(|r| r.needs_rca()),
            "{key} queues report {id}, which does not need an analysis"
        );
        queued.push(id);
    }
    for (key, value) in entries(db, "p/") {
        let r: ReportInfo = json(key.as_bytes(), &value);
        assert_eq!(
            r.needs_rca(),
            queued.contains(&r.report_id),
            "{key}: needs an analysis, or is queued, but not both: {r:?}"
        );
    }
    for r in &cases {
        let month = lantern_domain::Month::of(r.case.opened_on);
        let today = r.case.opened_on + chrono::TimeDelta::days(400);
        let of_hospital: Vec<_> = cases
            .iter()
            .filter(|c| c.hospital == r.hospital)
            .map(|c| &c.case)
            .collect();
        let f = lantern_rca::figures::compute(of_hospital.iter().copied(), month, today);
        let n = u64::try_from(of_hospital.len()).unwrap_or(u64::MAX);
        assert!(
            f.opened >= 1 && f.opened <= n && f.closed <= n && f.overdue <= n,
            "{f:?}"
        );
        if let Some(days) = f.median_days_to_close {
            assert!(days >= 0.0, "{}: median days to close {days}", r.rca_id);
        }
        if let Some(share) = f.stronger_or_intermediate_share {
            assert!(
                (0.0..=100.0).contains(&share),
                "{}: share {share}",
                r.rca_id
            );
        }
    }
}

/// Every death reads back under its own id; the month index points at
/// deaths of that hospital; its rules and state can be read on any day.
pub fn check_mortality(db: &sled::Db) {
    let tx = Tx::new(db);
    for (key, value) in entries(db, "d/") {
        let d: Death = json(key.as_bytes(), &value);
        assert_eq!(key, format!("d/{}", d.death_id));
        let died = d.date(d.recorded.died_at);
        for today in [
            died,
            died + chrono::TimeDelta::days(7),
            died + chrono::TimeDelta::days(400),
        ] {
            let rules = d.rules(today);
            assert!(!rules.is_empty(), "{key}: no rule applies");
            let _ = d.state(today);
        }
    }
    for (key, _) in entries(db, "m/") {
        let id = key.rsplit('/').next().unwrap_or_default();
        let d: Option<Death> = tx.get_json(format!("d/{id}").as_bytes()).expect("read");
        assert!(
            d.is_some_and(|d| key.starts_with(&format!("m/{}/", d.hospital))),
            "{key} indexes a death that is not of that hospital"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeds;

    fn seed(target: &str, name: &str) -> Vec<u8> {
        seeds::all()
            .into_iter()
            .find(|(t, n, _)| *t == target && n == name)
            .map(|(_, _, bytes)| bytes)
            .unwrap()
    }

    // The seeds must reach deep states, or fuzzing starts from nothing.
    #[test]
    fn the_rca_seed_closes_a_case_with_a_completed_action() {
        let (db, _) = run(&RcaProjector, &seed("project_rca", "rca-case"));
        let cases: Vec<CaseRecord> = entries(&db, "c/")
            .iter()
            .map(|(k, v)| json(k.as_bytes(), v))
            .collect();
        assert_eq!(cases.len(), 1, "{cases:?}");
        let case = &cases[0].case;
        assert_eq!(case.state, lantern_rca::case::CaseState::Closed, "{case:?}");
        assert!(!case.root_causes.is_empty(), "{case:?}");
        assert!(
            case.actions.iter().any(|a| a.completed_at.is_some()),
            "{case:?}"
        );
    }

    #[test]
    fn the_death_seed_reviews_and_closes_a_trail() {
        let (db, _) = run(
            &MortalityProjector,
            &seed("project_mortality", "death-trail"),
        );
        let deaths: Vec<Death> = entries(&db, "d/")
            .iter()
            .map(|(k, v)| json(k.as_bytes(), v))
            .collect();
        assert_eq!(deaths.len(), 2, "{deaths:?}");
        assert!(
            deaths.iter().any(|d| d.reviews.len() == 2
                && d.autopsy_report.is_some()
                && d.closed_at.is_some()),
            "{deaths:?}"
        );
    }
}
