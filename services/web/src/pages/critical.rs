//! The critical-value worklist: the own hospital's loops not yet handled,
//! longest waiting first. Overdue rows say "overdue" in words and with a
//! sign, not by colour alone.

use axum::extract::State;
use axum::response::Response;
use lantern_intake::critical::api::Worklist;
use maud::html;

use super::scope::own_hospital;
use crate::Web;
use crate::error::WebError;
use crate::i18n::{Key, Lang};
use crate::layout::page;
use crate::session::Staff;

/// `GET /staff/critical-values`.
pub async fn worklist(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
) -> Result<Response, WebError> {
    let hospital = own_hospital(&web, &staff).await?;
    let q = Worklist {
        hospital: hospital.code.clone(),
        state: None,
        after: None,
    };
    let rows = web.intake.worklist(&staff.principal, &q).await?.rows;
    let overdue = rows.iter().filter(|r| r.overdue).count();
    let body = html! {
        h1 { (lang.t(Key::CriticalH1)) " — " (hospital.name) }
        @if rows.is_empty() {
            p { (lang.t(Key::CriticalNone)) }
        } @else {
            p { (lang.t(Key::CriticalOverdue)) ": " strong { (overdue) } " / " (rows.len()) }
            table {
                thead { tr {
                    th scope="col" { (lang.t(Key::State)) }
                    th scope="col" { (lang.t(Key::Department)) }
                    th scope="col" { (lang.t(Key::CriticalItem)) }
                    th scope="col" { (lang.t(Key::CriticalValue)) }
                    th scope="col" { (lang.t(Key::CriticalDetectedAt)) }
                    th scope="col" { (lang.t(Key::CriticalStage)) }
                    th scope="col" { (lang.t(Key::CriticalWaited)) }
                    th scope="col" { (lang.t(Key::CriticalLimit)) }
                } }
                tbody {
                    @for r in &rows {
                        tr class=[r.overdue.then_some("overdue")] {
                            td { @if r.overdue { strong { (lang.t(Key::CriticalOverdue)) } } @else { (lang.t(Key::CriticalInTime)) } }
                            td { (r.critical_value.department) }
                            td { (r.critical_value.item) }
                            td { (r.critical_value.value) " " (r.critical_value.unit.as_deref().unwrap_or("")) }
                            td { (r.critical_value.detected_at.format("%Y-%m-%d %H:%M %:z")) }
                            td { (lang.stage(r.stage)) }
                            td class="n" { (r.waited_minutes) }
                            td class="n" { (r.limit_minutes) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        &staff.principal,
        &staff.csrf,
        lang,
        "/staff/critical-values",
        lang.t(Key::CriticalH1),
        body,
    ))
}
