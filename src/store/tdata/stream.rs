//! Qt's QDataStream as Telegram Desktop uses it: big-endian integers and QByteArrays
//! (u32 length, then the bytes; 0xFFFFFFFF is a null array). Every read is bounds-checked.

/// Reads a byte slice front to back; running out of bytes is an error, never a panic.
pub struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

pub type ReadResult<T> = Result<T, String>;

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    pub fn at_end(&self) -> bool {
        self.remaining() == 0
    }

    pub fn raw(&mut self, n: usize, what: &str) -> ReadResult<&'a [u8]> {
        if n > self.remaining() {
            return Err(format!(
                "{what}: needs {n} bytes, {} left",
                self.remaining()
            ));
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, what: &str) -> ReadResult<[u8; N]> {
        Ok(self.raw(N, what)?.try_into().expect("raw returns N bytes"))
    }

    pub fn i32(&mut self, what: &str) -> ReadResult<i32> {
        Ok(i32::from_be_bytes(self.array(what)?))
    }

    pub fn u64(&mut self, what: &str) -> ReadResult<u64> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// A QByteArray; a null array reads as `None`.
    pub fn byte_array(&mut self, what: &str) -> ReadResult<Option<&'a [u8]>> {
        let len = u32::from_be_bytes(self.array(what)?);
        if len == u32::MAX {
            return Ok(None);
        }
        self.raw(len as usize, what).map(Some)
    }
}

/// Builds a stream in memory.
#[derive(Default)]
pub struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn raw(&mut self, v: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(v);
        self
    }

    /// A QByteArray; `None` writes Qt's null array.
    pub fn byte_array(&mut self, v: Option<&[u8]>) -> &mut Self {
        match v {
            None => self.bytes.extend_from_slice(&u32::MAX.to_be_bytes()),
            Some(b) => {
                let len = u32::try_from(b.len()).expect("tdata blocks are small");
                self.bytes.extend_from_slice(&len.to_be_bytes());
                self.bytes.extend_from_slice(b);
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_round_trip_and_short_input_is_an_error() {
        let mut w = Writer::default();
        w.i32(-1).byte_array(Some(b"ab")).byte_array(None).u64(7);
        let mut r = Reader::new(&w.bytes);
        assert_eq!(r.i32("a").unwrap(), -1);
        assert_eq!(r.byte_array("b").unwrap(), Some(&b"ab"[..]));
        assert_eq!(r.byte_array("c").unwrap(), None);
        assert_eq!(r.u64("d").unwrap(), 7);
        assert!(r.at_end());
        let mut short = Reader::new(&[0, 0, 0, 9, 1]);
        assert!(short.byte_array("e").is_err());
    }
}
