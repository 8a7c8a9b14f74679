//! Validation of the ledger's identity fields: the resident ID number (GB 11643-1999) and mainland
//! mobile numbers. Errors describe the problem, never echo the number.

use chrono::NaiveDate;

use crate::error::{Error, Result};
use crate::model::Gender;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// What an 18-character resident ID number says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct IdNumberInfo {
    /// The number in canonical form (upper-case check character).
    pub normalized: String,
    /// The birth date written in the number.
    pub birth_date: NaiveDate,
    /// The gender the number's sequence digit gives.
    pub gender: Gender,
}

/// The GB 11643 check character for the first 17 digits.
pub fn id_check_char(first17: &[u8; 17]) -> char {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// Checks an 18-character resident ID number: digits, a real birth date, and the check character.
pub fn parse_id_number(raw: &str) -> Result<IdNumberInfo> {
    let normalized = raw.trim().to_ascii_uppercase();
    let bytes = normalized.as_bytes();
    if bytes.len() != 18 {
        return Err(Error::InvalidIdNumber("it must have 18 characters"));
    }
    let (body, check) = bytes.split_at(17);
    if !body.iter().all(u8::is_ascii_digit) {
        return Err(Error::InvalidIdNumber("the first 17 characters must be digits"));
    }
    let mut first17 = [0u8; 17];
    first17.copy_from_slice(body);
    if id_check_char(&first17) != char::from(check[0]) {
        return Err(Error::InvalidIdNumber("the check character does not match (a digit may be mistyped)"));
    }
    // The slice is 8 ASCII digits, checked above.
    let date = std::str::from_utf8(&bytes[6..14]).unwrap_or_default();
    let birth_date = NaiveDate::parse_from_str(date, "%Y%m%d")
        .map_err(|_| Error::InvalidIdNumber("the birth date in it is not a real date"))?;
    let gender = if (bytes[16] - b'0') % 2 == 1 { Gender::Male } else { Gender::Female };
    Ok(IdNumberInfo { normalized, birth_date, gender })
}

/// Longest one-line field: a name, an address, a title.
const MAX_LINE: usize = 200;
/// Longest free text: notes, a description.
const MAX_TEXT: usize = 4_000;

/// A required one-line field, trimmed: not empty, not over [`MAX_LINE`] characters, no control
/// characters (they break tables, exports and the apps' layouts).
pub(crate) fn line(field: &'static str, value: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if value.chars().count() > MAX_LINE {
        return Err(Error::invalid(field, format!("is longer than {MAX_LINE} characters")));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::invalid(field, "contains control characters"));
    }
    Ok(value.to_string())
}

/// Free text, trimmed: up to [`MAX_TEXT`] characters.
pub(crate) fn text(field: &'static str, value: &str) -> Result<String> {
    let value = value.trim();
    if value.chars().count() > MAX_TEXT {
        return Err(Error::invalid(field, format!("is longer than {MAX_TEXT} characters")));
    }
    Ok(value.to_string())
}

/// Checks a mainland mobile number (11 digits, starting with 1). Spaces and dashes are ignored;
/// returns the bare digits.
pub fn normalize_phone(raw: &str) -> Result<String> {
    let digits: String = raw.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    let digits = digits.strip_prefix("+86").unwrap_or(&digits).to_string();
    if digits.len() == 11 && digits.starts_with('1') && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(Error::InvalidPhone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_valid_number_and_reads_birth_and_gender() {
        let info = parse_id_number("11010519491231002x").expect("valid");
        assert_eq!(info.normalized, "11010519491231002X");
        assert_eq!(info.birth_date, NaiveDate::from_ymd_opt(1949, 12, 31).expect("date"));
        assert_eq!(info.gender, Gender::Female);
    }

    #[test]
    fn rejects_a_mistyped_digit() {
        assert!(matches!(parse_id_number("110105194912310021"), Err(Error::InvalidIdNumber(_))));
        assert!(matches!(parse_id_number("11010519491331002X"), Err(Error::InvalidIdNumber(_))));
        assert!(matches!(parse_id_number("1101051949"), Err(Error::InvalidIdNumber(_))));
    }

    #[test]
    fn error_never_contains_the_number() {
        let err = parse_id_number("110105194912310021").expect_err("invalid");
        assert!(!err.to_string().contains("110105"));
    }

    #[test]
    fn phones() {
        assert_eq!(normalize_phone("138 0013-8000").expect("ok"), "13800138000");
        assert_eq!(normalize_phone("+8613800138000").expect("ok"), "13800138000");
        assert!(normalize_phone("23800138000").is_err());
        assert!(normalize_phone("1380013800").is_err());
    }
}
