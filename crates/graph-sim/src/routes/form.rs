//! `application/x-www-form-urlencoded` decoding, for query strings and the token request body.

/// Decodes `a=1&b=x+y` into pairs, in order. Malformed escapes are kept literally.
pub(crate) fn decode_pairs(input: &str) -> Vec<(String, String)> {
    input
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_component(key), decode_component(value))
        })
        .collect()
}

/// The first value of `key` (matched case-insensitively, as OData matches `$select`).
pub(crate) fn find<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v.as_str())
}

fn decode_component(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_plus_and_percent_escapes() {
        let pairs = decode_pairs(
            "%24select=id%2CuserPrincipalName&scope=https%3A%2F%2Fx%2F.default&a+b=c+d",
        );
        assert_eq!(find(&pairs, "$SELECT"), Some("id,userPrincipalName"));
        assert_eq!(find(&pairs, "scope"), Some("https://x/.default"));
        assert_eq!(find(&pairs, "a b"), Some("c d"));
        assert_eq!(find(&pairs, "missing"), None);
    }
}
