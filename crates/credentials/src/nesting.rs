//! A depth check run before a recursive JSON / JSON5 parser sees a document.
//!
//! `json5` (pest) and `jsonc-parser` recurse once per nesting level with no limit of their own,
//! so a config file of some 50,000 nested `[` overflows the stack and aborts the process (a
//! crash no caller can catch). `serde_json` stops at 128 levels by itself. Real OpenClaw configs
//! nest a dozen levels; [`MAX_NESTING`] leaves ample room.

/// The deepest nesting of objects and arrays accepted: 256 levels.
pub const MAX_NESTING: usize = 256;

/// Where a document first nests deeper than [`MAX_NESTING`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep {
    /// 1-based line and column of the bracket that goes one level too deep.
    pub line: usize,
    pub column: usize,
    /// The top-level key it is under, when that key is a plain name (`[A-Za-z0-9_-]`, at most
    /// 64 characters; anything else is not quoted, as it could be a misplaced secret).
    pub key: Option<String>,
}

impl TooDeep {
    /// `nested deeper than 256 levels under `zzdeep` (line 1, column 300)`.
    pub fn describe(&self) -> String {
        let under = self
            .key
            .as_ref()
            .map(|k| format!(" under `{k}`"))
            .unwrap_or_default();
        format!(
            "nested deeper than {MAX_NESTING} levels{under} (line {}, column {})",
            self.line, self.column
        )
    }
}

/// Scans `text` as JSON5 (strings in `"` or `'` with `\` escapes, `//` and `/* */` comments;
/// plain JSON is a subset) and reports the first place nesting goes past [`MAX_NESTING`].
/// Iterative: any depth costs no stack. Malformed text is left to the parser.
pub fn check(text: &str) -> Result<(), TooDeep> {
    let bytes = text.as_bytes();
    let (mut depth, mut line, mut line_start) = (0usize, 1usize, 0usize);
    let mut i = 0;
    // The last plain token at depth 1 and the top-level key it became at `:`.
    let mut last_token: Option<String> = None;
    let mut top_key: Option<String> = None;
    let plain = |s: &str| {
        (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            b'"' | b'\'' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b {
                    if bytes[i] == b'\\' {
                        i += 1;
                    } else if bytes[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                    }
                    i += 1;
                }
                if depth == 1 {
                    let token = &text[start..i.min(bytes.len())];
                    last_token = plain(token).then(|| token.to_string());
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    if bytes[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                    }
                    i += 1;
                }
                i += 2;
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(TooDeep {
                        line,
                        column: text[line_start..i].chars().count() + 1,
                        key: top_key,
                    });
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth <= 1 {
                    top_key = None;
                }
            }
            b':' if depth == 1 => top_key = last_token.take(),
            c if depth == 1 && (c.is_ascii_alphanumeric() || c == b'_' || c == b'$') => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
                {
                    i += 1;
                }
                let token = &text[start..i];
                last_token = plain(token).then(|| token.to_string());
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_documents_are_refused_where_they_go_too_deep_and_shallow_ones_pass() {
        let deep = format!(
            "{{\n  // a comment with [[[ and {{{{\n  ok: 'a [ string',\n  \"zzdeep\": {}1{}\n}}",
            "[".repeat(50_000),
            "]".repeat(50_000)
        );
        let e = check(&deep).unwrap_err();
        assert_eq!(e.line, 4);
        assert_eq!(e.column, 13 + MAX_NESTING - 1);
        assert_eq!(e.key.as_deref(), Some("zzdeep"));
        assert_eq!(
            e.describe(),
            format!(
                "nested deeper than 256 levels under `zzdeep` (line 4, column {})",
                e.column
            )
        );
        let fine = format!("[{}1{}]", "[".repeat(254), "]".repeat(254));
        assert!(check(&fine).is_ok());
        // Brackets in strings and comments do not count; a non-plain key is not quoted.
        let mut quoted = String::from("{\"sk-CANARY key\": ");
        quoted.push_str(&"[".repeat(300));
        let e = check(&quoted).unwrap_err();
        assert_eq!(e.key, None);
        assert!(!e.describe().contains("CANARY"));
        assert!(check(&format!(
            "{{a: \"{}\", /* {} */}}",
            "[".repeat(999),
            "{".repeat(999)
        ))
        .is_ok());
    }
}
