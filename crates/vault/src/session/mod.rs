//! The token session: the token a client sends, how it was obtained, and the background loop that
//! renews it ([`renewal`]).

pub mod renewal;
