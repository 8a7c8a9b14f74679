//! Validation of the ledger's identity fields: the resident ID number (GB 11643-1999) and mainland
//! mobile numbers. Errors describe the problem, never echo the number.

use chrono::{NaiveDate, Utc};

use crate::error::{Error, Result};
use crate::model::Gender;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The first two digits an ID number may start with: the province-level divisions of GB/T 2260
/// (71 Taiwan, 81 Hong Kong, 82 Macao among them), and 83, the address code of the residence
/// permits for Taiwan residents, which carry numbers of the same form. Numbers starting with 9 are
/// foreigners' permanent residence cards, a different standard, and are not taken.
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63,
    64, 65, 71, 81, 82, 83,
];

/// What a resident ID number says about its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct IdNumberInfo {
    /// The number in canonical form: 18 ASCII characters, the check character an upper-case `X`
    /// when it is one.
    pub normalized: String,
    /// The birth date written in the number.
    pub birth_date: NaiveDate,
    /// The gender the number's sequence digit gives.
    pub gender: Gender,
    /// The number was given in the 15-digit form of a first-generation card, and `normalized` is
    /// its 18-digit form (with `19` before the year and the check character added), so that a
    /// screen can tell the person what it stored.
    pub converted_from_15: bool,
}

/// The GB 11643 check character for the first 17 digits.
pub fn id_check_char(first17: &[u8; 17]) -> char {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(d, w)| u32::from(d - b'0') * w).sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// Checks a resident ID number as people write it, dated against the latest calendar day anywhere
/// on earth, so that a phone set to any time zone never refuses a baby born today. The store checks
/// against its own clock instead ([`parse_id_number_on`]).
///
/// # Errors
/// As [`parse_id_number_on`].
pub fn parse_id_number(raw: &str) -> Result<IdNumberInfo> {
    // UTC+14 (Kiribati) is the first zone to reach a new day.
    let latest_today = (Utc::now() + chrono::Duration::hours(14)).date_naive();
    parse_id_number_on(raw, latest_today)
}

/// Checks a resident ID number (GB 11643) on the day `today`, and reads the birth date and gender in
/// it. Accepted as people write it:
/// - surrounding whitespace, the ideographic space of Chinese keyboards included, is ignored;
/// - full-width digits and `Ｘ`/`ｘ` (what a Chinese input method types) count as their ASCII forms;
/// - a lower-case `x` check character counts as `X`;
/// - a 15-digit first-generation number is converted to its 18-digit form
///   ([`IdNumberInfo::converted_from_15`] says so).
///
/// # Errors
/// [`Error::InvalidIdNumber`], saying what is wrong and never echoing the number: a length other
/// than 18 or 15 characters (the message gives the length found), a character that is not a digit
/// (or, last of 18, `X`), first two digits that name no province-level division, a birth date that
/// is not a real date or is after `today`, or a check character that does not match the digits.
pub fn parse_id_number_on(raw: &str, today: NaiveDate) -> Result<IdNumberInfo> {
    let chars: Vec<char> = raw.trim().chars().map(narrow).collect();
    let (digits, converted_from_15) = match chars.len() {
        18 => (chars[..17].to_vec(), false),
        15 => {
            let mut digits = chars[..6].to_vec();
            digits.extend(['1', '9']);
            digits.extend(&chars[6..]);
            (digits, true)
        }
        n => {
            return Err(invalid(format!(
                "it has {n} characters; a resident ID number has 18 (or 15 on a first-generation card)"
            )));
        }
    };
    if let Some(at) = digits.iter().position(|c| !c.is_ascii_digit()) {
        // Positions as the person sees them, in the number they typed.
        let at = if converted_from_15 && at >= 8 { at - 1 } else { at + 1 };
        let last = if converted_from_15 { "" } else { " (only the last character may be X)" };
        return Err(invalid(format!("character {at} is not a digit{last}")));
    }
    let mut first17 = [0u8; 17];
    for (byte, c) in first17.iter_mut().zip(&digits) {
        // An ASCII digit, checked above.
        *byte = *c as u8;
    }
    let province = (first17[0] - b'0') * 10 + (first17[1] - b'0');
    if !PROVINCES.contains(&province) {
        return Err(invalid("its first two digits do not name a province, region or municipality (GB/T 2260)"));
    }
    // Eight ASCII digits, checked above.
    let date = std::str::from_utf8(&first17[6..14]).unwrap_or_default();
    let birth_date = NaiveDate::parse_from_str(date, "%Y%m%d")
        .map_err(|_| invalid("the birth date in it is not a real date (a digit may be mistyped)"))?;
    if birth_date > today {
        return Err(invalid("the birth date in it is in the future (a digit may be mistyped)"));
    }
    let check = id_check_char(&first17);
    if !converted_from_15 {
        let given = chars[17].to_ascii_uppercase();
        if !(given.is_ascii_digit() || given == 'X') {
            return Err(invalid("the last character is neither a digit nor X"));
        }
        if given != check {
            return Err(invalid("the check character does not match (a digit may be mistyped)"));
        }
    }
    let gender = if (first17[16] - b'0') % 2 == 1 { Gender::Male } else { Gender::Female };
    let mut normalized: String = digits.into_iter().collect();
    normalized.push(check);
    Ok(IdNumberInfo { normalized, birth_date, gender, converted_from_15 })
}

/// A full-width digit or `Ｘ`/`ｘ` as its ASCII form, which is what NFKC makes of them; any other
/// character unchanged. Those twelve are the only compatibility characters an ID number can be
/// typed with, so a Unicode normalisation crate and its tables would buy nothing more here.
fn narrow(c: char) -> char {
    match c {
        '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
        'Ｘ' => 'X',
        'ｘ' => 'x',
        other => other,
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidIdNumber(reason.into())
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

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    /// The day the store's tests run on.
    fn today() -> NaiveDate {
        day(2026, 11, 10)
    }

    /// `first17` with its check character.
    fn with_check(first17: &str) -> String {
        let digits: [u8; 17] = first17.as_bytes().try_into().expect("17 digits");
        format!("{first17}{}", id_check_char(&digits))
    }

    fn reason(raw: &str) -> String {
        match parse_id_number_on(raw, today()) {
            Err(Error::InvalidIdNumber(reason)) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn accepts_a_valid_number_and_reads_birth_and_gender() {
        let info = parse_id_number_on("11010519491231002X", today()).expect("valid");
        assert_eq!(info.normalized, "11010519491231002X");
        assert_eq!(info.birth_date, day(1949, 12, 31));
        assert_eq!(info.gender, Gender::Female);
        assert!(!info.converted_from_15);
    }

    #[test]
    fn a_lower_case_x_is_stored_upper_case() {
        assert_eq!(parse_id_number_on("11010519491231002x", today()).expect("valid").normalized, "11010519491231002X");
    }

    #[test]
    fn rejects_a_mistyped_digit() {
        assert!(reason("110105194912310021").contains("check character"));
        assert!(reason("11010519491331002X").contains("not a real date"));
    }

    #[test]
    fn a_birth_date_after_today_is_refused_on_the_day_given() {
        let future = with_check("37091120300101123");
        assert!(reason(&future).contains("in the future"));
        assert!(reason("370911203001011230").contains("in the future"));
        // Born today is fine; tomorrow is not.
        assert!(parse_id_number_on(&with_check("37091120261110123"), today()).is_ok());
        assert!(reason(&with_check("37091120261111123")).contains("in the future"));
        assert!(parse_id_number_on(&future, day(2030, 1, 1)).is_ok());
    }

    #[test]
    fn the_first_two_digits_must_name_a_province_level_division() {
        for first in ["00", "10", "16", "20", "39", "47", "55", "66", "72", "80", "84", "91", "99"] {
            let number = with_check(&format!("{first}010519491231002"));
            assert!(reason(&number).contains("province"), "{first} is refused");
        }
        for first in ["11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65", "71", "81", "82", "83"] {
            let number = with_check(&format!("{first}010519491231002"));
            assert!(parse_id_number_on(&number, today()).is_ok(), "{first} is accepted");
        }
    }

    #[test]
    fn full_width_digits_and_x_count_as_ascii_and_spaces_around_are_trimmed() {
        let typed = "\u{3000}１１０１０５１９４９１２３１００２ｘ ";
        let info = parse_id_number_on(typed, today()).expect("an IME's number");
        assert_eq!(info.normalized, "11010519491231002X");
        assert_eq!(
            parse_id_number_on("１１０１０５１９４９１２３１００２Ｘ", today()).expect("valid").normalized,
            info.normalized
        );
        assert_eq!(
            parse_id_number_on("\t11010519491231002X\u{3000}\n", today()).expect("valid").normalized,
            info.normalized
        );
    }

    #[test]
    fn a_fifteen_digit_number_becomes_its_eighteen_digit_form() {
        let info = parse_id_number_on("110105491231002", today()).expect("first-generation number");
        assert_eq!(info.normalized, "11010519491231002X");
        assert!(info.converted_from_15);
        assert_eq!(info.birth_date, day(1949, 12, 31));
        assert_eq!(info.gender, Gender::Female);
        assert!(parse_id_number_on("１１０１０５４９１２３１００２", today()).expect("full width").converted_from_15);
        assert!(reason("110105491331002").contains("not a real date"));
        assert!(reason("000105491231002").contains("province"));
        assert_eq!(reason("1101054912310A2"), "character 14 is not a digit");
        assert!(reason("11010549123100X").contains("character 15 is not a digit"));
    }

    #[test]
    fn a_wrong_length_says_how_many_characters_there_are() {
        assert_eq!(
            reason("1101051949"),
            "it has 10 characters; a resident ID number has 18 (or 15 on a first-generation card)"
        );
        assert!(reason("11010519491231002X1").starts_with("it has 19 characters"));
        assert!(reason("１１０１０５１９４９１２３１００２").starts_with("it has 17 characters"));
        assert!(reason("").starts_with("it has 0 characters"));
    }

    #[test]
    fn a_stray_character_is_named_by_its_place() {
        assert_eq!(reason("1101051949123100X2"), "character 17 is not a digit (only the last character may be X)");
        assert_eq!(reason("11010519491231002Y"), "the last character is neither a digit nor X");
        assert!(reason("110105 19491231002").starts_with("character 7 is not a digit"));
    }

    #[test]
    fn error_never_contains_the_number() {
        for raw in ["110105194912310021", "1101051949", "000105194912310021", "110105491331002", "370911203001011230"] {
            let message = parse_id_number_on(raw, today()).expect_err("invalid").to_string();
            assert!(!message.contains("110105") && !message.contains("2030") && !message.contains("1949"), "{message}");
        }
    }

    #[test]
    fn the_apps_check_against_the_latest_day_anywhere() {
        assert!(parse_id_number("11010519491231002x").is_ok());
        assert!(parse_id_number(&with_check("11010529991231002")).is_err());
    }

    #[test]
    fn phones() {
        assert_eq!(normalize_phone("138 0013-8000").expect("ok"), "13800138000");
        assert_eq!(normalize_phone("+8613800138000").expect("ok"), "13800138000");
        assert!(normalize_phone("23800138000").is_err());
        assert!(normalize_phone("1380013800").is_err());
    }
}
