//! The critical-value worklist: the own hospital's loops not yet handled,
//! longest waiting first. Overdue rows say "overdue" in words and with a
//! sign, not by colour alone.

use axum::extract::State;
use axum::response::Response;
use chrono::Utc;
use lantern_intake::critical::Stage;
use maud::html;

use super::reports::own_hospital;
use crate::Web;
use crate::error::WebError;
use crate::i18n::Lang;
use crate::layout::page;
use crate::session::Staff;

fn stage_key(s: Stage) -> &'static str {
    match s {
        Stage::AwaitingNotification => "stage.awaiting_notification",
        Stage::AwaitingHandling => "stage.awaiting_handling",
    }
}

/// `GET /staff/critical-values`.
pub async fn worklist(
    State(web): State<Web>,
    staff: Staff,
    lang: Lang,
) -> Result<Response, WebError> {
    let hospital = own_hospital(&web, &staff).await?;
    let rows = web
        .intake
        .critical_values
        .open(&hospital.code, Utc::now())?;
    let overdue = rows.iter().filter(|r| r.overdue).count();
    let body = html! {
        h1 { (lang.t("critical.h1")) " — " (hospital.name) }
        @if rows.is_empty() {
            p { (lang.t("critical.none")) }
        } @else {
            p { (lang.t("critical.overdue")) ": " strong { (overdue) } " / " (rows.len()) }
            table {
                thead { tr {
                    th scope="col" { (lang.t("state")) }
                    th scope="col" { (lang.t("department")) }
                    th scope="col" { (lang.t("critical.item")) }
                    th scope="col" { (lang.t("critical.value")) }
                    th scope="col" { (lang.t("critical.detected_at")) }
                    th scope="col" { (lang.t("critical.stage")) }
                    th scope="col" { (lang.t("critical.waited")) }
                    th scope="col" { (lang.t("critical.limit")) }
                } }
                tbody {
                    @for r in &rows {
                        tr class=[r.overdue.then_some("overdue")] {
                            td { @if r.overdue { strong { (lang.t("critical.overdue")) } } @else { (lang.t("critical.in_time")) } }
                            td { (r.critical_value.department) }
                            td { (r.critical_value.item) }
                            td { (r.critical_value.value) " " (r.critical_value.unit.as_deref().unwrap_or("")) }
                            td { (r.critical_value.detected_at.format("%Y-%m-%d %H:%M %:z")) }
                            td { (lang.t(stage_key(r.stage))) }
                            td class="n" { (r.waited_minutes) }
                            td class="n" { (r.limit_minutes) }
                        }
                    }
                }
            }
        }
    };
    Ok(page(
        &staff,
        lang,
        "/staff/critical-values",
        lang.t("critical.h1"),
        body,
    ))
}
