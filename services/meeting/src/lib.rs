//! Lantern's monthly pack: for a month and a hospital (医疗质量安全月度分析)
//! or a region (the QC centre's 每月工作调度会), the deaths and their
//! reviews, the adverse events and their analyses, critical-value
//! timeliness and the reporting rate against its target — built only from
//! the other contexts' query facades.
//!
//! - [`pack`]: the pack's parts, pure given the contexts' answers;
//! - [`indicators`]: a period's counts and rates, adding up across
//!   hospitals, levels and regions;
//! - [`periodic`]: the quarterly and annual reports (JSON, A4 page, Excel);
//! - [`published`]: the published figures (信息公开), small cells
//!   suppressed over the whole year's tables;
//! - [`region`]: the region table, one row per hospital, worst first;
//! - [`cases`]: the case list a QC centre traces, de-identified;
//! - [`followup`]: a QC centre's action addressed to a hospital (guidance,
//!   rectification notice, follow-up item), pure decide/apply;
//! - [`followups`]: its read model, queries and command path;
//! - [`api`]: [`Meeting`], the state, and `GET /api/v1/meetings/{month}`;
//! - [`html`]: the printable A4 page.

pub mod api;
pub mod cases;
pub mod followup;
pub mod followups;
pub mod html;
pub mod indicators;
pub mod pack;
pub mod periodic;
pub mod published;
pub mod region;

pub use api::{Meeting, router};
