//! API keys, compared in constant time and never logged or echoed.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::App;

/// The header the seed's API reads the key from.
pub const HEADER: &str = "x-api-key";

/// The accepted keys, kept only as SHA-256 digests: comparing digests takes the same time
/// whatever the key's length, and the keys themselves never sit in memory dumps or logs.
pub struct ApiKeys(Vec<[u8; 32]>);

impl ApiKeys {
    /// Keys separated by commas or new lines; blanks and `#` comments are skipped. None when no
    /// key is left.
    pub fn parse(text: &str) -> Option<Self> {
        let digests: Vec<[u8; 32]> = text
            .split([',', '\n'])
            .map(str::trim)
            .filter(|k| !k.is_empty() && !k.starts_with('#'))
            .map(digest)
            .collect();
        (!digests.is_empty()).then_some(Self(digests))
    }

    /// Whether `presented` is one of the keys; every key is compared, so the time taken says
    /// nothing about which one matched or how close a guess came.
    pub fn accepts(&self, presented: &str) -> bool {
        let presented = digest(presented);
        self.0
            .iter()
            .fold(subtle::Choice::from(0), |found, key| {
                found | key.ct_eq(&presented)
            })
            .into()
    }
}

fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// 401 without a key, 403 with a wrong one.
pub async fn require_key(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let Some(presented) = request.headers().get(HEADER) else {
        return ApiError::MissingKey.into_response();
    };
    match presented.to_str() {
        Ok(key) if app.keys.accepts(key) => next.run(request).await,
        _ => ApiError::WrongKey.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_from_lists_and_files() {
        let keys = ApiKeys::parse("alpha, beta\n# a comment\n\ngamma\n").unwrap();
        for key in ["alpha", "beta", "gamma"] {
            assert!(keys.accepts(key), "{key}");
        }
        for wrong in ["", "alph", "alphaa", "# a comment", "ALPHA"] {
            assert!(!keys.accepts(wrong), "{wrong:?}");
        }
        assert!(ApiKeys::parse(" , \n# only a comment\n").is_none());
    }
}
