//! Masked ID numbers and phones: what a person sees of them unless they reveal one on purpose.
//!
//! Masking is applied at the store's public boundary: every list, search and record the store
//! hands out (to the command line, the apps, an export) carries `3709**********1633` and
//! `138****1111`, so an app never holds a full number it did not ask for. The full values stay in
//! the documents and in the query tables inside the encrypted database, where edits, merges,
//! validation, duplicate detection and searches by a full number use them; they leave the store
//! only through a reveal (`access.rs`), which is logged.

use crate::model::{Household, Resident};

/// Characters of an ID number shown at each end.
const ID_ENDS: usize = 4;
/// Characters of a phone shown at its start and at its end.
const PHONE_HEAD: usize = 3;
const PHONE_TAIL: usize = 4;

/// An ID number with all but its first four and last four characters hidden:
/// `370911194803051633` → `3709**********1633`. A value too short to keep its ends hidden is all
/// stars.
pub fn mask_id_number(number: &str) -> String {
    mask(number, ID_ENDS, ID_ENDS)
}

/// A phone with all but its first three and last four digits hidden: `13811111111` →
/// `138****1111`. A value too short to keep its ends hidden is all stars.
pub fn mask_phone(phone: &str) -> String {
    mask(phone, PHONE_HEAD, PHONE_TAIL)
}

/// Whether `text` is written as a mask (it hides characters with `*`), the form an export without
/// a reveal writes: such a value can only be compared with a stored one, never stored.
pub fn is_masked(text: &str) -> bool {
    text.contains('*')
}

fn mask(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let hidden = chars.len() - head - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(hidden));
    out.extend(&chars[chars.len() - tail..]);
    out
}

impl Resident {
    /// This resident with the ID number and the phone masked.
    pub(crate) fn masked(mut self) -> Self {
        self.id_number = self.id_number.as_deref().map(mask_id_number);
        self.phone = self.phone.as_deref().map(mask_phone);
        self
    }
}

impl Household {
    /// This household with its phone masked.
    pub(crate) fn masked(mut self) -> Self {
        self.phone = self.phone.as_deref().map(mask_phone);
        self
    }
}

/// A field's value as history shows it: an ID number or phone masked, anything else as it is.
pub(crate) fn masked_field(field: &str, value: Option<String>) -> Option<String> {
    match field {
        "id_number" => value.as_deref().map(mask_id_number),
        "phone" => value.as_deref().map(mask_phone),
        _ => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_number_shows_only_its_ends() {
        assert_eq!(mask_id_number("370911194803051633"), "3709**********1633");
        assert_eq!(mask_id_number("37091119480305163X"), "3709**********163X");
        assert_eq!(mask_id_number("1234"), "****");
    }

    #[test]
    fn a_phone_shows_its_first_three_and_last_four_digits() {
        assert_eq!(mask_phone("13811111111"), "138****1111");
        assert_eq!(mask_phone("1381111"), "*******");
    }

    #[test]
    fn a_mask_is_recognised_as_one() {
        assert!(is_masked("3709**********1633") && is_masked("138****1111"));
        assert!(!is_masked("370911194803051633"));
    }
}
