//! MLLP, HL7's Minimal Lower Layer Protocol: each message on the TCP
//! stream is framed as `<VT> message <FS><CR>` (0x0B … 0x1C 0x0D).
//!
//! A decoder of our own rather than the `hl7-mllp-codec` crate
//! (docs/decisions.md): that crate calls itself a play project, has not
//! been released since 2022, buffers without bound while it waits for a
//! frame's end, and in its strict mode looks for the end from the back of
//! the buffer, so two messages sent back to back become one frame.

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Start of a frame (vertical tab).
const START: u8 = 0x0B;
/// End of a frame: file separator, then carriage return.
const END: [u8; 2] = [0x1C, 0x0D];

/// The largest message taken, in bytes: a laboratory's ORU with a long
/// report text is tens of kilobytes; more is not a result.
pub const MAX_FRAME: usize = 1024 * 1024;

/// Why the stream cannot go on.
#[derive(Debug, thiserror::Error)]
pub enum MllpError {
    /// A frame grew past [`MAX_FRAME`] without its end.
    #[error("an MLLP frame is longer than {MAX_FRAME} bytes")]
    TooLong,
    /// Reading or writing the connection failed.
    #[error("connection")]
    Io(#[from] std::io::Error),
}

/// Frames HL7 messages on a byte stream: decodes what lies between a start
/// byte and the end bytes (bytes before a start byte are line noise and
/// are dropped, as the protocol says), encodes a message into a frame.
#[derive(Debug, Default)]
pub struct MllpCodec;

impl Decoder for MllpCodec {
    type Item = BytesMut;
    type Error = MllpError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, MllpError> {
        let Some(start) = src.iter().position(|b| *b == START) else {
            // Nothing but noise so far: drop it, keep nothing.
            src.clear();
            return Ok(None);
        };
        src.advance(start);
        let end = src[1..].windows(2).position(|w| w == END);
        match end {
            Some(at) => {
                let mut frame = src.split_to(at + 1 + END.len());
                frame.advance(1);
                frame.truncate(at);
                Ok(Some(frame))
            }
            None if src.len() > MAX_FRAME + 1 + END.len() => Err(MllpError::TooLong),
            None => Ok(None),
        }
    }
}

impl Encoder<&[u8]> for MllpCodec {
    type Error = MllpError;

    fn encode(&mut self, message: &[u8], dst: &mut BytesMut) -> Result<(), MllpError> {
        dst.reserve(message.len() + 1 + END.len());
        dst.put_u8(START);
        dst.put_slice(message);
        dst.put_slice(&END);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> (Vec<Vec<u8>>, BytesMut) {
        let mut codec = MllpCodec;
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            out.push(f.to_vec());
        }
        (out, buf)
    }

    #[test]
    fn a_frame_is_what_lies_between_its_start_and_end() {
        let (out, rest) = frames(b"\x0bMSH|a\rPID|\r\x1c\r");
        assert_eq!(out, [b"MSH|a\rPID|\r".to_vec()]);
        assert!(rest.is_empty());
    }

    #[test]
    fn back_to_back_frames_stay_apart_and_noise_before_a_start_is_dropped() {
        let (out, rest) = frames(b"noise\x0bA\x1c\r\r\n\x0bB\x1c\r\x0bC");
        assert_eq!(out, [b"A".to_vec(), b"B".to_vec()]);
        assert_eq!(&rest[..], b"\x0bC", "an unfinished frame waits");
    }

    #[test]
    fn a_frame_arriving_in_pieces_is_decoded_once_whole() {
        let mut codec = MllpCodec;
        let mut buf = BytesMut::new();
        for piece in [&b"\x0bMSH|"[..], b"x\x1c", b"\r"] {
            buf.extend_from_slice(piece);
            let got = codec.decode(&mut buf).unwrap();
            if piece == b"\r" {
                assert_eq!(got.unwrap().to_vec(), b"MSH|x");
            } else {
                assert!(got.is_none());
            }
        }
        // A lone FS inside a message is not its end.
        let (out, _) = frames(b"\x0ba\x1cb\x1c\r");
        assert_eq!(out, [b"a\x1cb".to_vec()]);
    }

    #[test]
    fn a_frame_without_end_past_the_limit_is_refused() {
        let mut codec = MllpCodec;
        let mut buf = BytesMut::from(&b"\x0b"[..]);
        buf.extend_from_slice(&vec![b'x'; MAX_FRAME + 3]);
        assert!(matches!(codec.decode(&mut buf), Err(MllpError::TooLong)));
        let mut buf = BytesMut::from(&b"\x0b"[..]);
        buf.extend_from_slice(&vec![b'x'; MAX_FRAME]);
        buf.extend_from_slice(b"\x1c\r");
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap().len(), MAX_FRAME);
    }

    #[test]
    fn encoding_frames_a_message() {
        let mut dst = BytesMut::new();
        MllpCodec.encode(&b"MSA|AA|1"[..], &mut dst).unwrap();
        assert_eq!(&dst[..], b"\x0bMSA|AA|1\x1c\r");
        let (out, _) = frames(&dst);
        assert_eq!(out, [b"MSA|AA|1".to_vec()]);
    }
}
