//! SQLite's variable-length integers and record format (fileformat2 §2.1, §2.1.3): a header of
//! serial types, then the values. Anything the format does not allow declines.

use super::{Decline, R};

/// One stored value, with the storage class it has on disk.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

/// Reads a varint at `at`; returns it and its length (1 to 9 bytes).
pub fn varint(bytes: &[u8], at: usize) -> R<(u64, usize)> {
    let mut v: u64 = 0;
    for i in 0..9 {
        let b = *bytes.get(at + i).ok_or(Decline("varint past the end"))?;
        if i == 8 {
            return Ok(((v << 8) | b as u64, 9));
        }
        v = (v << 7) | (b & 0x7f) as u64;
        if b & 0x80 == 0 {
            return Ok((v, i + 1));
        }
    }
    unreachable!("the ninth byte returns")
}

/// The largest record header SQLite reads (it calls a longer one corrupt).
const MAX_HEADER: u64 = 98_307;

/// Decodes a whole record. The header must end exactly where it says and the values must fill
/// the payload exactly, as SQLite checks once it has read a header to its end.
pub fn decode(payload: &[u8]) -> R<Vec<Value>> {
    let (header_len, n) = varint(payload, 0)?;
    if header_len > MAX_HEADER || (header_len as usize) < n || header_len as usize > payload.len() {
        return Err(Decline("record header size"));
    }
    let header_end = header_len as usize;
    let mut at = n;
    let mut body = header_end;
    let mut values = Vec::new();
    while at < header_end {
        let (serial, n) = varint(payload, at)?;
        at += n;
        let (value, size) = value(serial, &payload[body.min(payload.len())..])?;
        body += size;
        if body > payload.len() {
            return Err(Decline("record values past the payload"));
        }
        values.push(value);
    }
    if at != header_end || body != payload.len() {
        return Err(Decline("record sizes do not add up"));
    }
    Ok(values)
}

/// The value of serial type `serial` at the start of `body`, and how many bytes it takes.
fn value(serial: u64, body: &[u8]) -> R<(Value, usize)> {
    let int = |len: usize| -> R<(Value, usize)> {
        let bytes = body.get(..len).ok_or(Decline("integer past the payload"))?;
        // Big-endian two's complement, sign-extended from its first byte.
        let mut v: i64 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
        for &b in bytes {
            v = (v << 8) | b as i64;
        }
        Ok((Value::Int(v), len))
    };
    match serial {
        0 => Ok((Value::Null, 0)),
        1 => int(1),
        2 => int(2),
        3 => int(3),
        4 => int(4),
        5 => int(6),
        6 => int(8),
        7 => {
            let bytes = body.get(..8).ok_or(Decline("real past the payload"))?;
            let bits = u64::from_be_bytes(bytes.try_into().expect("eight bytes"));
            Ok((Value::Real(f64::from_bits(bits)), 8))
        }
        8 => Ok((Value::Int(0), 0)),
        9 => Ok((Value::Int(1), 0)),
        10 | 11 => Err(Decline("reserved serial type")),
        n => {
            let len = ((n - 12) / 2) as usize;
            let bytes = body
                .get(..len)
                .ok_or(Decline("text or blob past the payload"))?;
            let v = if n % 2 == 0 {
                Value::Blob(bytes.to_vec())
            } else {
                Value::Text(bytes.to_vec())
            };
            Ok((v, len))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_of_one_to_nine_bytes() {
        assert_eq!(varint(&[0x05], 0), Ok((5, 1)));
        assert_eq!(varint(&[0x81, 0x00], 0), Ok((128, 2)));
        assert_eq!(varint(&[0xff; 9], 0), Ok((u64::MAX, 9)));
        assert!(varint(&[0x81], 0).is_err());
    }

    #[test]
    fn a_record_of_every_class() {
        // header: size 6, types NULL, int8, text "hi" (17), blob "" (12), int 1 (9)
        let rec = [6, 0, 1, 17, 12, 9, 0xfe, b'h', b'i'];
        assert_eq!(
            decode(&rec),
            Ok(vec![
                Value::Null,
                Value::Int(-2),
                Value::Text(b"hi".to_vec()),
                Value::Blob(vec![]),
                Value::Int(1),
            ])
        );
    }

    #[test]
    fn records_whose_sizes_disagree_decline() {
        assert!(decode(&[3, 1, 1, 7]).is_err(), "one byte short");
        assert!(decode(&[2, 1, 7, 8]).is_err(), "one byte over");
        assert!(decode(&[2, 10]).is_err(), "reserved type");
        assert!(decode(&[9, 1]).is_err(), "header longer than the payload");
    }
}
