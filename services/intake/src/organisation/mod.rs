//! The organisation as configuration: regions, hospitals, departments,
//! tokens and limits ([`admin`]), the targets indicators are judged by
//! ([`targets`]), the reference means they are compared with
//! ([`references`]) and, on a region's hub, the hospitals linked to it
//! ([`links`]). The directory (`lantern-directory`) keeps them.

pub mod admin;
pub mod links;
pub mod references;
pub mod targets;
