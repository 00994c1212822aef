//! The escape that lets any Vault path reach OpenClaw as an exec SecretRef id.
//!
//! OpenClaw 2026.9 accepts exec ids matching `^[A-Za-z0-9][A-Za-z0-9._:/#-]{0,255}$` with no
//! `.` or `..` segment, so a credential named `openai:a2 spaced` or `mistral:ünï` has no id as it
//! is. [`encode`] writes each byte of the secret's path outside `A-Za-z0-9._:/-`, and `#` itself,
//! as `#XX` (two uppercase hex digits: a space is `#20`, `ü` is `#C3#BC`, `#` is `#23`) and appends
//! `/<field>` unescaped. [`decode`] reverses it in `openclaw-vault resolve`.
//!
//! An escaped id always has a `/` after its last `#`. An id of the older forms never has one
//! (`<path>/<field>` has no `#`; `<path>#<field>` has one `#` and a field without `/`), so every
//! id that resolved before resolves exactly as before. The one incompatibility: a Vault path
//! holding a literal `#` is written as `#23`; only ids written by an older `migrate` could hold
//! such a path raw, and `resolve` refused those anyway (`a#b/c`).

/// OpenClaw's limit on an exec id's length, in bytes (all allowed characters are ASCII).
pub const MAX_LEN: usize = 256;

/// Bytes written as themselves in an escaped id (`#` is the escape, so it is escaped too).
fn plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._:/-".contains(&b)
}

/// The exec SecretRef id of `field` of the secret at `path` (relative to the KV mount):
/// `path/field` when that is a valid id as it is, else the escaped form.
///
/// Errors (a reason for the migration report, never holding a secret): the field needs
/// escaping, the path holds a control character or does not start with a letter or digit, a
/// segment is empty, `.` or `..`, or the id would be longer than [`MAX_LEN`] after escaping.
pub fn encode(path: &str, field: &str) -> Result<String, String> {
    if field.is_empty() || !field.bytes().all(plain) || field.contains('/') {
        return Err(format!(
            "the field {field:?} cannot be written in an exec SecretRef id"
        ));
    }
    if path.chars().any(char::is_control) {
        return Err("the Vault path holds a control character".into());
    }
    if !path.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err("the Vault path must start with a letter or digit".into());
    }
    if path
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err("the Vault path has an empty, `.` or `..` segment".into());
    }
    let mut id = String::with_capacity(path.len() + field.len() + 1);
    for b in path.bytes() {
        if plain(b) {
            id.push(b as char);
        } else {
            id.push_str(&format!("#{b:02X}"));
        }
    }
    id.push('/');
    id.push_str(field);
    if id.len() > MAX_LEN {
        return Err(format!(
            "the exec SecretRef id would be {} characters long after escaping; OpenClaw allows {MAX_LEN}",
            id.len()
        ));
    }
    Ok(id)
}

/// True when `id` is in the escaped form (a `/` after its last `#`).
pub fn is_escaped(id: &str) -> bool {
    id.rsplit_once('#')
        .is_some_and(|(_, tail)| tail.contains('/'))
}

/// The `(path, field)` an escaped id (see [`is_escaped`]) stands for. Only the canonical form is
/// accepted (uppercase hex, only bytes [`encode`] escapes), so each path has exactly one id.
///
/// Errors: a reason naming the first bad position, never quoting more than the id's grammar.
pub fn decode(id: &str) -> Result<(String, String), String> {
    let (path, field) = id
        .rsplit_once('/')
        .ok_or_else(|| "the escaped id has no \"/<field>\"".to_string())?;
    if field.is_empty() || field.contains('#') {
        return Err("the escaped id must end in \"/<field>\" with no \"#\" in the field".into());
    }
    let raw = path.as_bytes();
    let mut bytes = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'#' {
            bytes.push(raw[i]);
            i += 1;
            continue;
        }
        let hex = raw.get(i + 1..i + 3).unwrap_or_default();
        let byte = (hex.len() == 2 && hex.iter().all(|h| matches!(h, b'0'..=b'9' | b'A'..=b'F')))
            .then(|| u8::from_str_radix(std::str::from_utf8(hex).unwrap_or_default(), 16).ok())
            .flatten()
            .filter(|b| !plain(*b))
            .ok_or_else(|| {
                format!(
                    "the escaped id has a bad escape at byte {i} (expected \"#\" and two uppercase hex digits of a byte that needs escaping)"
                )
            })?;
        bytes.push(byte);
        i += 3;
    }
    let path = String::from_utf8(bytes)
        .map_err(|_| "the escaped id's path is not UTF-8 once decoded".to_string())?;
    if path.chars().any(char::is_control) {
        return Err("the escaped id's path holds a control character once decoded".into());
    }
    Ok((path, field.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_keep_their_id() {
        assert_eq!(
            encode("openclaw/credentials/openai:work", "apiKey").unwrap(),
            "openclaw/credentials/openai:work/apiKey"
        );
        assert!(!is_escaped("openclaw/credentials/openai:work/apiKey"));
        assert!(!is_escaped("app#api.key"));
        assert!(!is_escaped("team/app#key.v2"));
    }

    #[test]
    fn round_trip() {
        for path in [
            "openclaw/credentials/openai:a2 spaced",
            "openclaw/credentials/mistral:ünï",
            "openclaw/credentials/a#b",
            "openclaw/credentials/agents/a1/x y#23",
            "p/日本語 ~!@$%^&*()+=",
        ] {
            let id = encode(path, "apiKey").unwrap();
            assert!(is_escaped(&id), "{id}");
            assert!(
                id.bytes().all(|b| plain(b) || b == b'#'),
                "{id} breaks OpenClaw's grammar"
            );
            assert_eq!(decode(&id).unwrap(), (path.to_string(), "apiKey".into()));
        }
        assert_eq!(
            encode("openclaw/credentials/openai:a2 spaced", "apiKey").unwrap(),
            "openclaw/credentials/openai:a2#20spaced/apiKey"
        );
        assert_eq!(
            encode("c/mistral:ünï", "key").unwrap(),
            "c/mistral:#C3#BCn#C3#AF/key"
        );
        assert_eq!(encode("c/a#b", "key").unwrap(), "c/a#23b/key");
    }

    #[test]
    fn too_long_after_escaping_gives_a_reason() {
        // 120 spaces fit as a path (120 bytes) but not as an id (360 bytes).
        let path = format!("c/{}", " ".repeat(120));
        let reason = encode(&path, "apiKey").unwrap_err();
        assert!(reason.contains("after escaping"), "{reason}");
        assert!(reason.contains("256"), "{reason}");
        // Exactly 256 is fine.
        let fits = format!("c/{}", "ü".repeat(41)); // 2 + 41*6 = 248, + "/apiKey" = 255
        assert_eq!(encode(&fits, "apiKey").unwrap().len(), 255);
        let fits = format!("c/x{}", "ü".repeat(41));
        assert_eq!(encode(&fits, "apiKey").unwrap().len(), MAX_LEN);
        let over = format!("c/xy{}", "ü".repeat(41));
        assert!(encode(&over, "apiKey").is_err());
    }

    #[test]
    fn unwritable_paths_and_fields_give_a_reason() {
        assert!(encode("c/a\nb", "k").is_err());
        assert!(encode(" c/a", "k").is_err());
        assert!(encode("c/../a", "k").is_err());
        assert!(encode("c//a", "k").is_err());
        assert!(encode("c/a", "api key").is_err());
        assert!(encode("c/a", "").is_err());
    }

    #[test]
    fn only_canonical_escapes_decode() {
        for bad in [
            "c/a#2/k",     // one digit
            "c/a#2g/k",    // not hex
            "c/a#c3#bc/k", // lowercase
            "c/a#41/k",    // `A` is never escaped
            "c/a#2F/k",    // `/` is never escaped
            "c/a#C3/k",    // not UTF-8
            "c/a#0A/k",    // control character
            "c/a#20",      // no field
            "c/a#20/",     // empty field
        ] {
            assert!(decode(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
