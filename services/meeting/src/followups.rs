//! QC actions that reach hospitals: the `followups` read model, its
//! queries, and the command path — a QC centre opens, carries and closes;
//! the hospital's safety officer answers. The endpoints and the staff web
//! call [`FollowUps`]' methods, so both decide alike.
//!
//! Keys: `z/<hospital>` time zone; `f/<id>` the [`FollowUp`];
//! `h/<hospital>/<id>` the index by the hospital addressed (a region's
//! actions are its hospitals', found through the directory's hierarchy);
//! `o/<id>` present for an action opened under its hospital's own subject
//! (before addressed scopes), whose QC steps may stand there too.
//!
//! One action, two subjects (DESIGN "Deployment tiers", docs/decisions.md):
//! the QC centre's steps under the addressed scope `<region>~<hospital>`,
//! the hospital's answers under the hospital's own, so that a hub and a
//! hospital's Lantern each write one and source the other. The read model
//! merges them by the action's id, and each side decides on both but
//! expects only on its own.

use chrono::NaiveDate;
use lantern_api::auth::Principal;
use lantern_api::checks::{check_optional, check_text};
use lantern_api::command::new_event;
use lantern_api::error::{ApiError, AppendError, FieldError};
use lantern_api::responses::Appended;
use lantern_api::{IdempotencyKey, Kernel};
use lantern_domain::Month;
use lantern_domain::events::followup::{ActionKind, Answered, Carried, Closed, Opened, Outcome};
use lantern_domain::events::{FollowUpEvent, Payload, org};
use lantern_domain::vocab::Role;
use lantern_domain::zone::HospitalZone;
use lantern_ledger::{AggregateKind, Expect, Recorded, Scope, addressed};
use lantern_projection::{Handle, ProjectionError, Projector, Tx};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::followup::{Command, FollowUp, FollowUpError, Stamp, State, apply, decide};

fn zone_key(hospital: &str) -> Vec<u8> {
    format!("z/{hospital}").into_bytes()
}

fn followup_key(id: Uuid) -> Vec<u8> {
    format!("f/{id}").into_bytes()
}

/// The `followups` projector.
pub struct FollowUpsProjector;

impl Projector for FollowUpsProjector {
    fn name(&self) -> &'static str {
        "followups"
    }

    // 2: no index by opening region (a region's actions are found through
    // its hospitals); 3: the QC centre's steps under the addressed scope,
    // the hospital's answers under its own.
    fn version(&self) -> u32 {
        3
    }

    /// Time zones and QC actions.
    fn kinds(&self) -> &'static [AggregateKind] {
        &[AggregateKind::Org, AggregateKind::FollowUp]
    }

    fn apply(&self, tx: &mut Tx<'_>, event: &Recorded) -> Result<(), ProjectionError> {
        let e = &event.envelope;
        if e.event_type == org::HospitalRegistered::TYPE {
            if let Ok(h) = e.data.parse::<org::HospitalRegistered>() {
                tx.put_json(zone_key(&e.hospital), &h.timezone)?;
            }
            return Ok(());
        }
        let Some(Ok(parsed)) = FollowUpEvent::from_json(&e.event_type, e.version, e.data.as_json())
        else {
            return Ok(());
        };
        let Some(scope) = Scope::parse(&e.hospital) else {
            return Ok(());
        };
        let hospital = scope.about();
        let key = followup_key(e.aggregate);
        let before = tx.get_json::<FollowUp>(&key)?;
        let own_opening = legacy_key(e.aggregate);
        let legacy = tx.get(&own_opening)?.is_some();
        if !written_by_its_side(before.as_ref(), &parsed, scope, legacy) {
            return Ok(());
        }
        let timezone: Option<String> = tx.get_json(&zone_key(hospital))?;
        let stamp = Stamp {
            followup_id: e.aggregate,
            hospital,
            at: e.recorded_at,
            day: HospitalZone::named(timezone.as_deref()).date_of(&e.recorded_at),
            seq: event.seq,
        };
        let Some(after) = apply(before, &parsed, &stamp) else {
            return Ok(());
        };
        if let FollowUpEvent::Opened(_) = parsed {
            tx.put(
                format!("h/{}/{}", after.hospital, e.aggregate).into_bytes(),
                b"1".to_vec(),
            );
            if let Scope::Own(_) = scope {
                tx.put(own_opening, b"1".to_vec());
            }
        }
        tx.put_json(key, &after)
    }
}

fn legacy_key(id: Uuid) -> Vec<u8> {
    format!("o/{id}").into_bytes()
}

/// Whether `event` stands under the scope its side writes, so that a
/// stream cannot speak for the other side — at a hub, a hospital's sourced
/// subjects cannot close the QC centre's action; at a hospital, the
/// addressed subjects cannot answer for it. The QC centre's steps stand
/// under `<region>~<hospital>` of the region that opened the action, or
/// under the hospital's own subject for an action opened there (`legacy`,
/// before addressed scopes); answers under the hospital's own only.
fn written_by_its_side(
    before: Option<&FollowUp>,
    event: &FollowUpEvent,
    scope: Scope<'_>,
    legacy: bool,
) -> bool {
    let qc_step = !matches!(event, FollowUpEvent::Answered(_));
    match (before, event, scope) {
        (None, FollowUpEvent::Opened(o), Scope::Addressed { region, .. }) => o.region == region,
        (None, FollowUpEvent::Opened(_), Scope::Own(_)) => true,
        (None, _, _) => false,
        (Some(f), _, Scope::Own(h)) => h == f.hospital && (!qc_step || legacy),
        (Some(f), _, Scope::Addressed { region, hospital }) => {
            qc_step && hospital == f.hospital && region == f.region
        }
        (Some(_), _, Scope::System) => false,
    }
}

/// The scope a side writes an action's steps under: the QC centre's under
/// the region that opened it, addressed to the hospital; the hospital's
/// under its own code.
fn scope_of(role: Role, f: &FollowUp) -> String {
    match role {
        Role::QcCentre => addressed(&f.region, &f.hospital),
        _ => f.hospital.clone(),
    }
}

/// QC actions: the read model and the commands on it.
#[derive(Clone)]
pub struct FollowUps {
    /// The HTTP kernel (ledger, directory, command path).
    pub kernel: Kernel,
    /// The `followups` read model.
    pub handle: Handle,
}

/// Open a QC action for a hospital of the QC centre's region.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenFollowUp {
    /// The hospital it is addressed to.
    pub hospital: String,
    /// guidance (指导意见), rectification (整改通知) or follow_up (督办事项).
    #[schema(value_type = String)]
    pub kind: ActionKind,
    /// What it is about, in a line (≤ 200 characters).
    pub title: String,
    /// What the hospital is asked to do (≤ 4000 characters).
    pub text: String,
    /// When the answer is due, `YYYY-MM-DD`.
    pub due: NaiveDate,
    /// The dispatch meeting (month) it is opened at, `YYYY-MM`.
    #[schema(value_type = Option<String>)]
    pub meeting: Option<Month>,
}

/// The hospital's answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerFollowUp {
    /// What was done (≤ 4000 characters).
    pub text: String,
}

/// Carry to a later meeting.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CarryFollowUp {
    /// The meeting, `YYYY-MM`, after the one it is on.
    #[schema(value_type = String)]
    pub to_meeting: Month,
    /// A new due date.
    pub due: Option<NaiveDate>,
}

/// Close it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseFollowUp {
    /// resolved or unresolved.
    #[schema(value_type = String)]
    pub outcome: Outcome,
    /// Why, in a few words (≤ 2000 characters).
    pub note: Option<String>,
}

/// An opened action.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpOpened {
    /// Its id.
    pub followup_id: Uuid,
    /// Its short reference.
    #[serde(rename = "ref")]
    pub reference: String,
    /// Stream sequence.
    pub seq: u64,
}

/// An action and where it stands today.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpView {
    /// The action.
    #[serde(flatten)]
    pub followup: FollowUp,
    /// open, answered, overdue or closed, today.
    pub state: State,
}

/// Which actions to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListFollowUps {
    /// One hospital (its safety officer, or its region's QC centre).
    pub hospital: Option<String>,
    /// A whole region (its QC centre).
    pub region: Option<String>,
    /// open, answered, overdue or closed.
    #[param(inline)]
    pub state: Option<State>,
    /// Wait until this stream sequence is applied.
    pub after: Option<u64>,
}

/// Actions.
#[derive(Debug, Serialize, ToSchema)]
pub struct FollowUpList {
    /// By hospital, then due date.
    pub rows: Vec<FollowUpView>,
}

impl From<FollowUpError> for ApiError {
    fn from(e: FollowUpError) -> ApiError {
        match (e.pointer(), &e) {
            (Some(pointer), _) => ApiError::field(pointer, e.to_string()),
            (None, FollowUpError::Unknown) => ApiError::NotFound(e.to_string()),
            (None, _) => ApiError::Conflict(e.to_string()),
        }
    }
}

impl FollowUps {
    /// The action `id` as the read model holds it.
    pub fn get(&self, id: Uuid) -> Result<Option<FollowUp>, ApiError> {
        Ok(Tx::new(self.handle.db()).get_json(&followup_key(id))?)
    }

    /// The actions addressed to `hospital`.
    pub fn of_hospital(&self, hospital: &str) -> Result<Vec<FollowUp>, ApiError> {
        let prefix = format!("h/{hospital}/");
        let tx = Tx::new(self.handle.db());
        let mut out = Vec::new();
        for item in self.handle.db().scan_prefix(prefix.as_bytes()) {
            let (k, _) = item.map_err(ProjectionError::from)?;
            let id = String::from_utf8_lossy(&k)
                .rsplit('/')
                .next()
                .and_then(|s| s.parse::<Uuid>().ok());
            if let Some(id) = id
                && let Some(f) = tx.get_json::<FollowUp>(&followup_key(id))?
            {
                out.push(f);
            }
        }
        out.sort_by(|a, b| (a.due, &a.reference).cmp(&(b.due, &b.reference)));
        Ok(out)
    }

    /// The actions addressed to the hospitals of `region` and of the
    /// regions below it, whoever opened them.
    pub fn in_region(&self, region: &str) -> Result<Vec<FollowUp>, ApiError> {
        let mut out = Vec::new();
        // Hospitals come by code: the rows are by hospital, then due date.
        for h in self.kernel.directory.hospitals_in(region)? {
            out.extend(self.of_hospital(&h.code)?);
        }
        Ok(out)
    }

    /// The actions `q` asks for, as `principal` may read them.
    pub async fn list(
        &self,
        principal: &Principal,
        q: &ListFollowUps,
    ) -> Result<FollowUpList, ApiError> {
        principal.require(&[Role::SafetyOfficer, Role::QcCentre])?;
        // Scope first (a refusal waits for nothing), then the read model
        // at `after`, then the rows.
        enum Of<'a> {
            Hospital(&'a str),
            Region(&'a str),
        }
        let of = match (&q.hospital, &q.region) {
            (Some(h), None) => {
                let record =
                    self.kernel.directory.hospital(h).await?.ok_or_else(|| {
                        ApiError::field("/hospital", "is not a registered hospital")
                    })?;
                principal.require_in(&[Role::SafetyOfficer, Role::QcCentre], &record)?;
                Of::Hospital(h)
            }
            (None, Some(r)) => {
                principal.require_region(&self.kernel.directory, r)?;
                Of::Region(r)
            }
            _ => {
                return Err(ApiError::field(
                    "/hospital",
                    "give exactly one of hospital and region",
                ));
            }
        };
        lantern_api::query::wait_after(&self.handle, q.after).await?;
        let rows = match of {
            Of::Hospital(h) => self.of_hospital(h)?,
            Of::Region(r) => self.in_region(r)?,
        };
        let mut out = Vec::new();
        for f in rows {
            let state = f.state(self.today(&f.hospital).await?);
            if q.state.is_none_or(|s| s == state) {
                out.push(FollowUpView { followup: f, state });
            }
        }
        Ok(FollowUpList { rows: out })
    }

    /// The action `id` with its state, if `principal` may read it.
    pub async fn view(
        &self,
        principal: &Principal,
        id: Uuid,
        after: Option<u64>,
    ) -> Result<FollowUpView, ApiError> {
        principal.require(&[Role::SafetyOfficer, Role::QcCentre])?;
        lantern_api::query::wait_after(&self.handle, after).await?;
        let f = self
            .get(id)?
            .ok_or_else(|| ApiError::NotFound(format!("no follow-up {id}")))?;
        self.readable(principal, &f).await?;
        let state = f.state(self.today(&f.hospital).await?);
        Ok(FollowUpView { followup: f, state })
    }

    /// Today in `hospital`'s time zone.
    async fn today(&self, hospital: &str) -> Result<NaiveDate, ApiError> {
        let tz = self
            .kernel
            .directory
            .hospital(hospital)
            .await?
            .map(|h| h.timezone);
        Ok(HospitalZone::named(tz.as_deref()).today())
    }

    /// The hospital's safety officer, or the QC centre of its region.
    async fn readable(&self, principal: &Principal, f: &FollowUp) -> Result<(), ApiError> {
        let record = self
            .kernel
            .directory
            .hospital(&f.hospital)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no hospital {}", f.hospital)))?;
        principal.require_in(&[Role::SafetyOfficer, Role::QcCentre], &record)
    }

    /// Opens an action for a hospital of the QC centre's region.
    pub async fn open(
        &self,
        principal: &Principal,
        body: OpenFollowUp,
        key: Option<&IdempotencyKey>,
    ) -> Result<FollowUpOpened, ApiError> {
        principal.require(&[Role::QcCentre])?;
        let hospital = self
            .kernel
            .directory
            .hospital(&body.hospital)
            .await?
            .ok_or_else(|| ApiError::field("/hospital", "is not a registered hospital"))?;
        principal.require_in(&[Role::QcCentre], &hospital)?;
        let mut errors = Vec::new();
        check_text("/title", &body.title, 200, &mut errors);
        check_text("/text", &body.text, 4000, &mut errors);
        let today = HospitalZone::named(Some(&hospital.timezone)).today();
        if body.due < today {
            errors.push(FieldError::new("/due", "is in the past"));
        }
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
        let idem = key.and_then(|k| k.scoped(&hospital.code, Opened::TYPE));
        if let Some(first) = self.kernel.replayed(idem.as_deref(), Opened::TYPE).await? {
            let id = first.envelope.aggregate;
            return Ok(FollowUpOpened {
                followup_id: id,
                reference: lantern_domain::ids::short_ref(id),
                seq: first.seq,
            });
        }
        // The region of the QC centre that opened it (a province's centre
        // may address a county hospital).
        let region = principal.require_qc_region()?.to_owned();
        let opened = Opened {
            kind: body.kind,
            region,
            title: body.title.trim().to_owned(),
            text: body.text.trim().to_owned(),
            due: body.due,
            meeting: body.meeting,
        };
        let scope = addressed(&opened.region, &hospital.code);
        let event = decide(None, Command::Open(opened))?;
        let id = lantern_domain::ids::random();
        let committed = self
            .kernel
            .append(new_event(&event, id, scope), Expect::New, idem.as_deref())
            .await?;
        Ok(FollowUpOpened {
            followup_id: id,
            reference: lantern_domain::ids::short_ref(id),
            seq: committed.seq,
        })
    }

    /// The hospital's safety officer answers action `id`.
    pub async fn answer(
        &self,
        principal: &Principal,
        id: Uuid,
        body: AnswerFollowUp,
        key: Option<&IdempotencyKey>,
    ) -> Result<Appended, ApiError> {
        let mut errors = Vec::new();
        check_text("/text", &body.text, 4000, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
        let answered = Answered {
            text: body.text.trim().to_owned(),
        };
        self.step(
            principal,
            Role::SafetyOfficer,
            id,
            key,
            Command::Answer(answered),
        )
        .await
    }

    /// The QC centre carries action `id` to a later meeting.
    pub async fn carry(
        &self,
        principal: &Principal,
        id: Uuid,
        body: CarryFollowUp,
        key: Option<&IdempotencyKey>,
    ) -> Result<Appended, ApiError> {
        let carried = Carried {
            to_meeting: body.to_meeting,
            due: body.due,
        };
        self.step(principal, Role::QcCentre, id, key, Command::Carry(carried))
            .await
    }

    /// The QC centre closes action `id`.
    pub async fn close(
        &self,
        principal: &Principal,
        id: Uuid,
        body: CloseFollowUp,
        key: Option<&IdempotencyKey>,
    ) -> Result<Appended, ApiError> {
        let mut errors = Vec::new();
        check_optional("/note", body.note.as_deref(), 2000, &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::Invalid(errors));
        }
        let closed = Closed {
            outcome: body.outcome,
            note: body
                .note
                .map(|n| n.trim().to_owned())
                .filter(|n| !n.is_empty()),
        };
        self.step(principal, Role::QcCentre, id, key, Command::Close(closed))
            .await
    }

    /// Decides and appends a step on the action as it stands in the stream,
    /// by `role` of its hospital (safety officer) or region (QC centre).
    async fn step(
        &self,
        principal: &Principal,
        role: Role,
        id: Uuid,
        key: Option<&IdempotencyKey>,
        command: Command,
    ) -> Result<Appended, ApiError> {
        principal.require(&[role])?;
        let f = self
            .get(id)?
            .ok_or_else(|| ApiError::NotFound(format!("no follow-up {id}")))?;
        let record = self
            .kernel
            .directory
            .hospital(&f.hospital)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no hospital {}", f.hospital)))?;
        principal.require_in(&[role], &record)?;
        let event_type = command.event_type();
        let idem = key.and_then(|k| k.scoped(&f.hospital, &format!("{event_type} {id}")));
        if let Some(first) = self.kernel.replayed(idem.as_deref(), event_type).await? {
            return Ok(Appended { seq: first.seq });
        }
        // Decide on the action as the stream has it, not as the read model
        // last saw it: a step a moment ago, of either side, is counted. Only
        // this side's subject is expected on: the other side's is written
        // at another site, through a link that may be down, and its steps
        // are folded in whatever order they arrive (`crate::followup`).
        let scope = scope_of(role, &f);
        let own = self
            .kernel
            .ledger
            .last_of(&scope, AggregateKind::FollowUp, id)
            .await?;
        let last = self
            .kernel
            .ledger
            .last_of_aggregate(AggregateKind::FollowUp, id)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no follow-up {id}")))?;
        if !self
            .handle
            .wait_for(last.seq, std::time::Duration::from_secs(5))
            .await
        {
            return Err(ApiError::NotCaughtUp(last.seq));
        }
        let current = self
            .get(id)?
            .ok_or_else(|| ApiError::NotFound(format!("no follow-up {id}")))?;
        let event = decide(Some(&current), command)?;
        let committed = self
            .kernel
            .append(
                new_event(&event, id, scope),
                own.map_or(Expect::New, |o| Expect::LastAt(o.seq)),
                idem.as_deref(),
            )
            .await
            .map_err(|e| match e {
                AppendError::Conflict(_) => {
                    ApiError::Conflict("this follow-up changed meanwhile; reload it".into())
                }
                other => other.into(),
            })?;
        Ok(Appended { seq: committed.seq })
    }
}

#[cfg(test)]
mod tests {
    //! Given an action's events under the scopes each side writes, then the
    //! action the read model holds: both sides merged, neither speaking for
    //! the other.
    #![allow(clippy::unwrap_used)]

    use lantern_domain::events::Event;
    use lantern_domain::vocab::Level;

    use super::*;

    fn event(scope: &str, id: Uuid, payload: &impl Event) -> Recorded {
        Recorded::new(
            0,
            payload.event_type(),
            scope,
            id,
            "2026-11-05T02:00:00Z".parse().unwrap(),
            payload.data(),
        )
    }

    fn registered() -> Recorded {
        event(
            "H1",
            Uuid::nil(),
            &org::HospitalRegistered {
                code: "H1".into(),
                name: "x".into(),
                region: "R1".into(),
                level: Level::Tertiary,
                timezone: "Asia/Shanghai".into(),
            },
        )
    }

    fn opened() -> FollowUpEvent {
        FollowUpEvent::Opened(Opened {
            kind: ActionKind::Rectification,
            region: "R1".into(),
            title: "跌倒".into(),
            text: "请整改".into(),
            due: "2026-11-30".parse().unwrap(),
            meeting: None,
        })
    }

    fn answered(text: &str) -> FollowUpEvent {
        FollowUpEvent::Answered(Answered { text: text.into() })
    }

    fn closed() -> FollowUpEvent {
        FollowUpEvent::Closed(Closed {
            outcome: Outcome::Resolved,
            note: None,
        })
    }

    fn action(events: &[Recorded], id: Uuid) -> FollowUp {
        let db = lantern_projection::given(&FollowUpsProjector, events).unwrap();
        Tx::new(&db).get_json(&followup_key(id)).unwrap().unwrap()
    }

    #[test]
    fn the_two_sides_merge_and_neither_speaks_for_the_other() {
        let id = Uuid::from_u128(7);
        let f = action(
            &[
                registered(),
                event("R1~H1", id, &opened()),
                event("H1", id, &answered("已整改")),
                // The hospital's subjects cannot close the QC centre's action,
                // nor the addressed scope answer for the hospital, nor another
                // region's scope step in.
                event("H1", id, &closed()),
                event("R1~H1", id, &answered("forged")),
                event("R2~H1", id, &closed()),
            ],
            id,
        );
        assert_eq!((f.hospital.as_str(), f.region.as_str()), ("H1", "R1"));
        assert_eq!(f.answers.len(), 1);
        assert_eq!(f.answers[0].text, "已整改");
        assert_eq!(f.closed, None);
        assert_eq!(f.last_seq, 3, "the answer, the last event folded");
        let f = action(
            &[
                registered(),
                event("R1~H1", id, &opened()),
                event("R1~H1", id, &closed()),
                // An answer that crossed the closure on the way: kept, and
                // the action stays closed.
                event("H1", id, &answered("迟到的答复")),
            ],
            id,
        );
        assert!(f.closed.is_some() && f.answers.len() == 1);
    }

    #[test]
    fn an_action_opened_under_the_hospitals_subject_takes_qc_steps_there_too() {
        let id = Uuid::from_u128(8);
        let f = action(
            &[
                registered(),
                event("H1", id, &opened()),
                event("H1", id, &answered("已整改")),
                event("R1~H1", id, &closed()),
            ],
            id,
        );
        assert!(f.closed.is_some(), "a QC step of today's writers");
        let f = action(
            &[
                registered(),
                event("H1", id, &opened()),
                event("H1", id, &closed()),
            ],
            id,
        );
        assert!(f.closed.is_some(), "as the stream recorded it before");
        // An opening under a scope other than its region's is no action.
        let db = lantern_projection::given(
            &FollowUpsProjector,
            &[registered(), event("R2~H1", id, &opened())],
        )
        .unwrap();
        assert!(Tx::new(&db).get(&followup_key(id)).unwrap().is_none());
    }
}
