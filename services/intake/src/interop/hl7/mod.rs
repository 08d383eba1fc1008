//! HL7 v2 (2.5) over MLLP (issue 28 item 1): a hospital's LIS, RIS and HIS
//! send `ORU^R01` results and `ADT^A03` discharges to one listener
//! (`LANTERN_MLLP_ADDR`); critical results become critical values through
//! the intake's own command path, discharges count into the census.
//!
//! - [`mllp`]: the framing;
//! - [`message`]: a parsed message read into what Lantern records (pure);
//! - [`ack`]: the `AA`/`AE`/`AR` acknowledgement with its ERR segment;
//! - [`server`]: [`Hl7`], the listener and the way each message is recorded.

pub mod ack;
pub mod message;
pub mod mllp;
pub mod server;

pub use server::{Hl7, parse_sources};
