//! The pages, one module per workspace.

pub mod critical;
pub mod dashboard;
pub mod reports;
pub mod signin;

/// Empty form fields mean "not given".
pub fn given(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}
