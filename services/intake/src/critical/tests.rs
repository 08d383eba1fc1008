//! The critical-value loop given/when/then, and its read model given the
//! stream's events.

use super::projector::{open_prefix, value_key};
use super::*;
use chrono::{DateTime, FixedOffset};
use lantern_ledger::Recorded;
use lantern_projection::Tx;
use uuid::Uuid;

fn t(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn detected() -> CriticalValue {
    CriticalValue {
        critical_value_id: Uuid::nil(),
        hospital: "H1".into(),
        department: "ICU".into(),
        source: Source::Lab,
        item: "K".into(),
        value: "6.9".into(),
        unit: Some("mmol/L".into()),
        specimen_id: None,
        patient_setting: Setting::Inpatient,
        detected_at: t("2026-03-01T08:00:00+08:00"),
        notified: None,
        acknowledged: None,
        handled: None,
        limits: Limits::default(),
    }
}

fn notification(at: &str) -> Notified {
    Notified {
        notified_at: t(at),
        channel: "phone".into(),
        notified_role: "nurse".into(),
    }
}
fn acknowledgement(at: &str) -> Acknowledged {
    Acknowledged {
        acknowledged_at: t(at),
    }
}
fn handling(at: &str) -> Handled {
    Handled {
        handled_at: t(at),
        disposition: "calcium gluconate".into(),
    }
}

fn notified(at: &str) -> Command {
    Command::Notify(notification(at))
}
fn acknowledged(at: &str) -> Command {
    Command::Acknowledge(acknowledgement(at))
}
fn handled(at: &str) -> Command {
    Command::Handle(handling(at))
}

fn origin(history: &LimitsHistory) -> Origin<'_> {
    Origin {
        critical_value_id: Uuid::nil(),
        hospital: "H1",
        limits: history,
    }
}

/// Given a detected loop and commands, when each is decided and its
/// events applied in turn, then the loop (or the first refusal).
fn given(commands: Vec<Command>) -> Result<CriticalValue, StepError> {
    let history = LimitsHistory::new();
    let mut cv = detected();
    for c in commands {
        for event in decide(Some(&cv), c)? {
            cv = apply(Some(cv), event, &origin(&history)).unwrap();
        }
    }
    Ok(cv)
}

fn detection() -> Detected {
    Detected {
        department: "ICU".into(),
        source: Source::Lab,
        item: "K".into(),
        value: "6.9".into(),
        unit: Some("mmol/L".into()),
        detected_at: t("2026-03-01T08:00:00+08:00"),
        patient_setting: Setting::Inpatient,
        specimen_id: None,
    }
}

/// When a detection is decided with the steps already taken, then its
/// events in loop order, or the refusal of the first step that may not
/// follow.
fn when_detected(
    notified: Option<Notified>,
    acknowledged: Option<Acknowledged>,
    handled: Option<Handled>,
) -> Result<Vec<CriticalValueEvent>, StepError> {
    decide(
        None,
        Command::Detect {
            detected: detection(),
            notified,
            acknowledged,
            handled,
        },
    )
}

#[test]
fn the_whole_loop_in_order() {
    let cv = given(vec![
        notified("2026-03-01T08:10:00+08:00"),
        acknowledged("2026-03-01T08:12:00+08:00"),
        handled("2026-03-01T08:30:00+08:00"),
    ])
    .unwrap();
    assert!(cv.handled.is_some());
    // Acknowledgement is optional before handling.
    assert!(
        given(vec![
            notified("2026-03-01T08:10:00+08:00"),
            handled("2026-03-01T08:20:00+08:00")
        ])
        .is_ok()
    );
}

#[test]
fn out_of_order_repeated_and_time_travelling_steps_are_refused() {
    assert!(matches!(
        given(vec![acknowledged("2026-03-01T08:12:00+08:00")]),
        Err(StepError::OutOfOrder(_))
    ));
    assert!(matches!(
        given(vec![handled("2026-03-01T08:12:00+08:00")]),
        Err(StepError::OutOfOrder(_))
    ));
    assert!(matches!(
        given(vec![
            notified("2026-03-01T08:10:00+08:00"),
            notified("2026-03-01T08:11:00+08:00")
        ]),
        Err(StepError::Repeated(_))
    ));
    assert!(matches!(
        given(vec![
            notified("2026-03-01T08:10:00+08:00"),
            handled("2026-03-01T08:20:00+08:00"),
            acknowledged("2026-03-01T08:21:00+08:00"),
        ]),
        Err(StepError::OutOfOrder(_))
    ));
    assert_eq!(
        given(vec![notified("2026-03-01T07:59:59+08:00")]),
        Err(StepError::BeforePrevious {
            field: "notified_at"
        })
    );
    assert_eq!(
        given(vec![
            notified("2026-03-01T08:10:00+08:00"),
            handled("2026-03-01T08:09:00+08:00")
        ]),
        Err(StepError::BeforePrevious {
            field: "handled_at"
        })
    );
    // The same instant written in another offset is not "before".
    assert!(given(vec![notified("2026-03-01T00:00:00Z")]).is_ok());
}

#[test]
fn open_items_are_overdue_by_the_clock() {
    let cv = detected();
    let item = open_item(cv.clone(), t("2026-03-01T08:15:00+08:00").to_utc());
    assert_eq!(
        (item.stage, item.waited_minutes, item.overdue),
        (Stage::AwaitingNotification, 15, false)
    );
    let item = open_item(cv, t("2026-03-01T08:15:01+08:00").to_utc());
    assert!(item.overdue);
    let cv = given(vec![notified("2026-03-01T08:05:00+08:00")]).unwrap();
    let item = open_item(cv, t("2026-03-01T08:40:00+08:00").to_utc());
    assert_eq!(
        (item.stage, item.limit_minutes, item.overdue),
        (Stage::AwaitingHandling, 30, true)
    );
}

#[test]
fn a_loop_recorded_with_its_detection_is_decided_step_by_step() {
    let events = when_detected(
        Some(notification("2026-03-01T08:10:00+08:00")),
        None,
        Some(handling("2026-03-01T08:30:00+08:00")),
    )
    .unwrap();
    let types: Vec<_> = events.iter().map(|e| e.event_type()).collect();
    assert_eq!(
        types,
        [
            "critical_value.detected",
            "critical_value.notified",
            "critical_value.handled"
        ]
    );
    assert_eq!(
        when_detected(None, None, None).unwrap(),
        [CriticalValueEvent::Detected(detection())]
    );
    // A step timed before the one it follows is named under its member
    // of the request.
    assert_eq!(
        when_detected(
            Some(notification("2026-03-01T08:10:00+08:00")),
            None,
            Some(handling("2026-03-01T08:09:00+08:00")),
        ),
        Err(StepError::BeforePrevious {
            field: "handled/handled_at"
        })
    );
    assert_eq!(
        when_detected(Some(notification("2026-03-01T07:59:00+08:00")), None, None),
        Err(StepError::BeforePrevious {
            field: "notified/notified_at"
        })
    );
    assert!(matches!(
        when_detected(
            None,
            Some(acknowledgement("2026-03-01T08:12:00+08:00")),
            None
        ),
        Err(StepError::OutOfOrder(_))
    ));
}

#[test]
fn a_step_needs_a_detected_value_and_a_value_is_detected_once() {
    assert_eq!(
        decide(None, notified("2026-03-01T08:10:00+08:00")),
        Err(StepError::Unknown)
    );
    let detect = Command::Detect {
        detected: detection(),
        notified: None,
        acknowledged: None,
        handled: None,
    };
    assert_eq!(
        decide(Some(&detected()), detect),
        Err(StepError::Repeated("detection"))
    );
}

#[test]
fn a_loop_keeps_the_limits_in_force_when_it_was_detected() {
    let strict = Limits {
        notification_limit_minutes: 5,
        handling_limit_minutes: 10,
    };
    let history = vec![(t("2026-03-01T07:00:00+08:00").to_utc(), strict)];
    let detected = CriticalValueEvent::Detected(detection());
    let cv = apply(None, detected.clone(), &origin(&history)).unwrap();
    assert_eq!(cv.limits, strict);
    assert_eq!(
        (cv.critical_value_id, cv.hospital.as_str()),
        (Uuid::nil(), "H1")
    );
    let later = vec![(t("2026-03-01T09:00:00+08:00").to_utc(), strict)];
    assert_eq!(
        apply(None, detected.clone(), &origin(&later))
            .unwrap()
            .limits,
        Limits::default()
    );
    // A second detection changes nothing; a step of no loop makes none.
    assert_eq!(
        apply(Some(cv.clone()), detected, &origin(&history)),
        Some(cv)
    );
    assert_eq!(
        apply(
            None,
            CriticalValueEvent::Notified(notification("2026-03-01T08:10:00+08:00")),
            &origin(&history)
        ),
        None
    );
}

mod projector {
    //! The read model, given the stream's events.

    use super::*;
    use lantern_domain::events::{Event, org};

    fn event(seq: u64, aggregate: Uuid, at: &str, payload: &impl Event) -> Recorded {
        Recorded::new(
            seq,
            payload.event_type(),
            "H1",
            aggregate,
            at.parse().unwrap(),
            payload.data(),
        )
    }

    fn loop_of(db: &sled::Db, id: Uuid) -> Option<CriticalValue> {
        Tx::new(db).get_stored(&value_key(id)).unwrap()
    }

    fn open(db: &sled::Db) -> Vec<Uuid> {
        db.scan_prefix(open_prefix("H1"))
            .map(|kv| {
                let (k, _) = kv.unwrap();
                String::from_utf8_lossy(&k[open_prefix("H1").len()..])
                    .parse()
                    .unwrap()
            })
            .collect()
    }

    #[test]
    fn a_loop_is_open_until_handled_and_keeps_the_limits_of_its_detection() {
        let id = Uuid::from_u128(7);
        let strict = org::LimitsSet::from(Limits {
            notification_limit_minutes: 5,
            handling_limit_minutes: 10,
        });
        let db = lantern_projection::given(
            &CriticalValuesProjector,
            &[
                event(1, Uuid::nil(), "2026-02-28T00:00:00Z", &strict),
                event(2, id, "2026-03-01T00:00:00Z", &detection()),
                // A second detection of the same value is not one.
                event(3, id, "2026-03-01T00:01:00Z", &detection()),
                event(
                    4,
                    id,
                    "2026-03-01T00:10:00Z",
                    &notification("2026-03-01T08:10:00+08:00"),
                ),
            ],
        )
        .unwrap();
        let cv = loop_of(&db, id).unwrap();
        assert_eq!(cv.limits, strict.limits);
        assert_eq!(cv.notified, Some(notification("2026-03-01T08:10:00+08:00")));
        assert_eq!(open(&db), [id]);

        let handled = handling("2026-03-01T08:20:00+08:00");
        let db = lantern_projection::given(
            &CriticalValuesProjector,
            &[
                event(1, id, "2026-03-01T00:00:00Z", &detection()),
                event(
                    2,
                    id,
                    "2026-03-01T00:10:00Z",
                    &notification("2026-03-01T08:10:00+08:00"),
                ),
                event(3, id, "2026-03-01T00:20:00Z", &handled),
            ],
        )
        .unwrap();
        assert_eq!(loop_of(&db, id).unwrap().handled, Some(handled));
        assert!(open(&db).is_empty());
    }

    #[test]
    fn steps_of_unknown_values_and_data_that_is_not_their_type_are_ignored() {
        let id = Uuid::from_u128(7);
        let mut garbled = event(
            2,
            id,
            "2026-03-01T00:10:00Z",
            &notification("2026-03-01T08:10:00+08:00"),
        );
        garbled.envelope.data = serde_json::json!({"notified_at": "yesterday"}).into();
        let db = lantern_projection::given(
            &CriticalValuesProjector,
            &[event(
                1,
                id,
                "2026-03-01T00:10:00Z",
                &notification("2026-03-01T08:10:00+08:00"),
            )],
        )
        .unwrap();
        assert_eq!(db.scan_prefix(b"v/").count(), 0);
        let db = lantern_projection::given(
            &CriticalValuesProjector,
            &[event(1, id, "2026-03-01T00:00:00Z", &detection()), garbled],
        )
        .unwrap();
        assert_eq!(loop_of(&db, id).unwrap().notified, None);
    }

    #[test]
    fn the_catalogue_keeps_every_set_and_answers_as_it_held_at_a_moment() {
        use super::super::projector::catalogue_key;
        use lantern_domain::critical::catalogue::{CatalogueHistory, Threshold, recognise};
        let set = |low: f64, high: f64, from: &str| org::CriticalItemSet {
            item: "K".into(),
            name: "血钾".into(),
            unit: Some("mmol/L".into()),
            low: Threshold::from_f64(low).ok(),
            high: Threshold::from_f64(high).ok(),
            source: Source::Lab,
            effective_from: t(from),
        };
        let mut garbled = event(
            3,
            Uuid::nil(),
            "2026-03-02T00:00:00Z",
            &set(1.0, 9.0, "2026-03-01T00:00:00Z"),
        );
        garbled.envelope.data = serde_json::json!({"item": "K", "low": "one"}).into();
        let db = lantern_projection::given(
            &CriticalValuesProjector,
            &[
                event(
                    1,
                    Uuid::nil(),
                    "2026-01-01T00:00:00Z",
                    &set(2.5, 6.5, "2026-01-01T00:00:00+08:00"),
                ),
                event(
                    2,
                    Uuid::nil(),
                    "2026-02-01T00:00:00Z",
                    &set(2.8, 6.2, "2026-03-01T00:00:00+08:00"),
                ),
                // Data that is not the type's sets nothing.
                garbled,
            ],
        )
        .unwrap();
        let history: CatalogueHistory = Tx::new(&db)
            .get_json(&catalogue_key("H1"))
            .unwrap()
            .unwrap();
        assert_eq!(history.sets().len(), 2);
        let at = |s: &str| history.at(t(s).to_utc());
        let february = at("2026-02-15T00:00:00+08:00");
        assert!(!recognise(&february, "K", "6.4", Some("mmol/L")));
        let march = at("2026-03-15T00:00:00+08:00");
        assert!(recognise(&march, "K", "6.4", Some("mmol/L")));
        assert!(
            Tx::new(&db).get(&catalogue_key("H2")).unwrap().is_none(),
            "another hospital's catalogue is its own"
        );
    }
}
