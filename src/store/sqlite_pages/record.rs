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
    /// A value on an overflow page (never read).
    Spilled,
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

/// Decodes a record of `size` bytes of which `local` are at hand. The header must lie in
/// `local` and end exactly where it says, and the values must fill the payload exactly, as
/// SQLite checks once it has read a header to its end; values past `local` are
/// [`Value::Spilled`].
pub fn decode(local: &[u8], size: usize) -> R<Vec<Value>> {
    if local.len() > size {
        return Err(Decline("local part larger than the payload"));
    }
    let (header_len, n) = varint(local, 0)?;
    if header_len > MAX_HEADER || (header_len as usize) < n || header_len as usize > local.len() {
        return Err(Decline("record header size"));
    }
    let header_end = header_len as usize;
    let mut at = n;
    let mut body = header_end;
    let mut values = Vec::new();
    while at < header_end {
        let (serial, n) = varint(&local[..header_end], at)?;
        at += n;
        let len = serial_len(serial)?;
        let end = body.checked_add(len).ok_or(Decline("value size"))?;
        if end > size {
            return Err(Decline("record values past the payload"));
        }
        values.push(if end <= local.len() {
            value(serial, &local[body..end])?
        } else {
            Value::Spilled
        });
        body = end;
    }
    if at != header_end || body != size {
        return Err(Decline("record sizes do not add up"));
    }
    Ok(values)
}

/// How many bytes a value of serial type `serial` takes.
fn serial_len(serial: u64) -> R<usize> {
    Ok(match serial {
        0 | 8 | 9 => 0,
        1..=4 => serial as usize,
        5 => 6,
        6 | 7 => 8,
        10 | 11 => return Err(Decline("reserved serial type")),
        n => usize::try_from((n - 12) / 2).map_err(|_| Decline("value size"))?,
    })
}

/// The value of serial type `serial` whose bytes are `bytes` (of [`serial_len`]).
fn value(serial: u64, bytes: &[u8]) -> R<Value> {
    Ok(match serial {
        0 => Value::Null,
        // Big-endian two's complement, sign-extended from its first byte.
        1..=6 => {
            let mut v: i64 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
            for &b in bytes {
                v = (v << 8) | b as i64;
            }
            Value::Int(v)
        }
        7 => Value::Real(f64::from_bits(u64::from_be_bytes(
            bytes.try_into().map_err(|_| Decline("real size"))?,
        ))),
        8 => Value::Int(0),
        9 => Value::Int(1),
        n if n % 2 == 0 => Value::Blob(bytes.to_vec()),
        _ => Value::Text(bytes.to_vec()),
    })
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
            decode(&rec, rec.len()),
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
        let whole = |r: &[u8]| decode(r, r.len());
        assert!(whole(&[3, 1, 1, 7]).is_err(), "one byte short");
        assert!(whole(&[2, 1, 7, 8]).is_err(), "one byte over");
        assert!(whole(&[2, 10]).is_err(), "reserved type");
        assert!(whole(&[9, 1]).is_err(), "header longer than the payload");
    }

    #[test]
    fn values_past_the_local_part_are_spilled() {
        // int8 on the page, a 3-byte text past it.
        let rec = [3, 1, 19, 5];
        assert_eq!(decode(&rec, 7), Ok(vec![Value::Int(5), Value::Spilled]));
        assert!(decode(&rec, 8).is_err(), "sizes do not add up");
    }
}
