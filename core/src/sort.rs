//! Address order as people expect it: "2栋10单元" after "2栋9单元", numbers compared as numbers.

/// A key that sorts addresses naturally: every run of digits is left-padded to ten digits.
pub(crate) fn address_key(address: &str) -> String {
    let mut key = String::with_capacity(address.len() + 16);
    let mut digits = String::new();
    let flush = |digits: &mut String, key: &mut String| {
        if !digits.is_empty() {
            let trimmed = digits.trim_start_matches('0');
            for _ in trimmed.len()..10 {
                key.push('0');
            }
            key.push_str(trimmed);
            digits.clear();
        }
    };
    for c in address.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut key);
            key.push(c);
        }
    }
    flush(&mut digits, &mut key);
    key
}

#[cfg(test)]
mod tests {
    use super::address_key;

    #[test]
    fn numbers_sort_as_numbers() {
        let mut addresses = vec!["3栋2单元1001", "3栋2单元501", "10栋1单元101", "3栋10单元101", "一组12号", "一组3号"];
        addresses.sort_by_key(|a| address_key(a));
        assert_eq!(addresses, ["3栋2单元501", "3栋2单元1001", "3栋10单元101", "10栋1单元101", "一组3号", "一组12号"]);
    }
}
