//! Secret paths given by users. A path is checked before it is put in a URL: no empty, `.` or `..`
//! segment (they would address another secret once normalised), no control characters, and every
//! segment percent-encoded so `?` or `#` in a key name cannot change the request.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use crate::error::{Result, VaultError};

/// Characters escaped inside one path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'\\');

/// A validated path relative to a mount, as its segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiPath {
    segments: Vec<String>,
}

impl ApiPath {
    /// A non-empty secret path. One leading and one trailing `/` are ignored.
    pub fn parse(raw: &str) -> Result<Self> {
        let path = Self::parse_dir(raw)?;
        if path.segments.is_empty() {
            return Err(VaultError::invalid_argument(
                "path is empty; expected e.g. \"app/config\"",
            ));
        }
        Ok(path)
    }

    /// A folder path, which may be empty (the mount's root), as for `list`.
    pub fn parse_dir(raw: &str) -> Result<Self> {
        if let Some(pos) = raw.find(|c: char| c.is_control()) {
            return Err(VaultError::invalid_argument(format!(
                "path contains a control character at byte {pos}"
            )));
        }
        let trimmed = raw.strip_prefix('/').unwrap_or(raw);
        let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
        if trimmed.is_empty() {
            return Ok(ApiPath {
                segments: Vec::new(),
            });
        }
        let mut segments = Vec::new();
        for (i, seg) in trimmed.split('/').enumerate() {
            let problem = match seg {
                "" => Some("is empty"),
                "." => Some("is \".\""),
                ".." => Some("is \"..\""),
                _ => None,
            };
            if let Some(problem) = problem {
                return Err(VaultError::invalid_argument(format!(
                    "path \"{raw}\": segment {} {problem}; segments must be non-empty names",
                    i + 1
                )));
            }
            segments.push(seg.to_string());
        }
        Ok(ApiPath { segments })
    }

    /// Whether this is the mount's root (no segments).
    pub fn is_root(&self) -> bool {
        self.segments.is_empty()
    }

    /// The segments, not encoded.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The percent-encoded form, segments joined by `/`, no leading or trailing slash.
    pub fn encoded(&self) -> String {
        self.segments
            .iter()
            .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
            .collect::<Vec<_>>()
            .join("/")
    }

    /// `prefix/encoded`, or `prefix` alone for the root.
    pub fn under(&self, prefix: &str) -> String {
        if self.is_root() {
            prefix.to_string()
        } else {
            format!("{prefix}/{}", self.encoded())
        }
    }
}

impl std::fmt::Display for ApiPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.segments.join("/"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_paths() {
        assert_eq!(ApiPath::parse("a/b").unwrap().encoded(), "a/b");
        assert_eq!(ApiPath::parse("/a/b/").unwrap().encoded(), "a/b");
        assert_eq!(
            ApiPath::parse("key with space?#").unwrap().encoded(),
            "key%20with%20space%3F%23"
        );
        assert!(ApiPath::parse_dir("").unwrap().is_root());
        assert!(ApiPath::parse_dir("/").unwrap().is_root());
    }

    #[test]
    fn refuses_bad_segments() {
        for bad in [
            "a//b", "a/./b", "../etc", "a/..", "", "//", "a\nb", "a\u{0}b",
        ] {
            let err = ApiPath::parse(bad).unwrap_err();
            assert_eq!(err.code(), "INVALID_ARGUMENT", "{bad:?}");
        }
        let err = ApiPath::parse("a/../b").unwrap_err();
        assert!(err.message.contains("segment 2"), "{}", err.message);
    }
}
