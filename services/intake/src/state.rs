//! The intake's shared state: the HTTP kernel plus its own read models.

use std::ops::Deref;

use axum::extract::FromRef;
use lantern_api::Kernel;
use lantern_api::auth::Auth;

use crate::critical::CriticalValues;
use crate::reports::Reports;

/// State shared by the intake's handlers.
#[derive(Clone)]
pub struct Intake {
    /// The command path, directory and authentication every context shares.
    pub kernel: Kernel,
    /// The reports read model.
    pub reports: Reports,
    /// The critical-values read model.
    pub critical_values: CriticalValues,
}

// Handlers read the kernel's parts (`app.ledger`, `app.append(…)`) as their
// own: the intake is the kernel plus two read models, not a wrapper of it.
impl Deref for Intake {
    type Target = Kernel;
    fn deref(&self) -> &Kernel {
        &self.kernel
    }
}

impl FromRef<Intake> for Auth {
    fn from_ref(app: &Intake) -> Auth {
        app.kernel.auth.clone()
    }
}
