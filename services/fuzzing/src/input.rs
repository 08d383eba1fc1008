//! The fuzz input as a stream of choices: each choice is one byte, taken
//! modulo the number of options, and an exhausted input answers 0.
//!
//! This is the `arbitrary` idea cut down to what the targets need, with one
//! property `arbitrary` lacks: it is trivially invertible ([`Writer`]), so a
//! seed can be written as the scenario it means.

/// Reads choices from fuzz bytes.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    bytes: &'a [u8],
}

impl<'a> Input<'a> {
    /// Choices from `bytes`.
    pub fn new(bytes: &'a [u8]) -> Input<'a> {
        Input { bytes }
    }

    /// Whether every byte was used.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The next byte, or 0 once exhausted.
    pub fn byte(&mut self) -> u8 {
        match self.bytes.split_first() {
            Some((b, rest)) => {
                self.bytes = rest;
                *b
            }
            None => 0,
        }
    }

    /// A choice among `n` (> 0) options.
    pub fn choose(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    /// One of `options` (not empty).
    pub fn pick<T: Copy>(&mut self, options: &[T]) -> T {
        options[self.choose(options.len())]
    }

    /// A length-prefixed run of raw bytes (at most 255).
    pub fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte()).min(self.bytes.len());
        let (chunk, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        chunk
    }
}

/// Writes the choices an [`Input`] reads back: for seeds.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    /// An empty input.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// The choice `index` (< 256) among any number of options.
    pub fn choose(&mut self, index: usize) -> &mut Writer {
        self.bytes
            .push(u8::try_from(index).expect("a choice fits in a byte"));
        self
    }

    /// A raw chunk (at most 255 bytes).
    pub fn chunk(&mut self, bytes: &[u8]) -> &mut Writer {
        let n = bytes.len().min(255);
        self.choose(n);
        self.bytes.extend_from_slice(&bytes[..n]);
        self
    }

    /// The bytes.
    pub fn finish(&self) -> Vec<u8> {
        self.bytes.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_and_input_agree() {
        let bytes = Writer::new().choose(3).chunk(b"abc").choose(200).finish();
        let mut input = Input::new(&bytes);
        assert_eq!(input.choose(5), 3);
        assert_eq!(input.chunk(), b"abc");
        assert_eq!(input.choose(256), 200);
        assert!(input.is_empty());
        assert_eq!(input.choose(7), 0, "exhausted input answers 0");
        assert_eq!(input.chunk(), b"");
    }
}
