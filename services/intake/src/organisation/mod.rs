//! The organisation as configuration: regions, hospitals, departments,
//! tokens and limits ([`admin`]), the targets indicators are judged by
//! ([`targets`]) and the reference means they are compared with
//! ([`references`]). The directory (`lantern-directory`) keeps them.

pub mod admin;
pub mod references;
pub mod targets;
