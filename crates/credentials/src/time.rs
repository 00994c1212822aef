//! Wall-clock time as this layer uses it: epoch milliseconds (`*_ms`), the unit of `expiresAt`,
//! cache stamps and audit lines.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch, now (0 if the clock reads before the epoch).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
