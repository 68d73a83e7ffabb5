//! Base64 as the Python libraries use it: written URL-safe, read in either alphabet.

use base64::Engine;
use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_encode_padding(false)
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(false);

const URL_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
const STD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);

/// Decodes URL-safe or standard base64, with or without padding.
pub fn decode_any(text: &str) -> Result<Vec<u8>, String> {
    let uses_std = text.contains('+') || text.contains('/');
    let engine = if uses_std { &STD_LENIENT } else { &URL_LENIENT };
    engine
        .decode(text)
        .map_err(|e| format!("not valid base64 ({e})"))
}

pub fn encode_url_padded(bytes: &[u8]) -> String {
    general_purpose::URL_SAFE.encode(bytes)
}

pub fn encode_url_unpadded(bytes: &[u8]) -> String {
    general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_alphabets_and_padding() {
        let bytes = [0xfb, 0xff, 0x01];
        assert_eq!(decode_any(&encode_url_padded(&bytes)).unwrap(), bytes);
        assert_eq!(decode_any("-_8B").unwrap(), bytes);
        assert_eq!(decode_any("+/8B").unwrap(), bytes);
        assert!(decode_any("a").is_err());
        assert!(decode_any("!!!!").is_err());
    }
}
