//! HS256 JWTs with expiry and a revocable id.

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use messenger_core::ports::{TokenCodec, TokenRejection};
use messenger_core::{Session, Timestamp, TokenId, UserId};
use rand::RngCore;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    iat: i64,
    jti: String,
}

/// Signs and checks HS256 tokens. The algorithm is pinned: `none` and any other algorithm
/// are refused.
pub struct JwtCodec {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtCodec {
    /// A codec for this shared secret (every node of a deployment must use the same one).
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        // Expiry is checked against the service's clock in `decode`, not the system's.
        validation.validate_exp = false;
        validation.leeway = 0;
        JwtCodec {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }
}

fn fresh_token_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl TokenCodec for JwtCodec {
    fn issue(&self, user: UserId, expires_at: Timestamp) -> (String, Session) {
        let session = Session {
            user_id: user,
            token_id: TokenId(fresh_token_id()),
            expires_at: Timestamp::from_unix_millis(expires_at.unix_seconds() * 1000),
        };
        let claims = Claims {
            sub: user.to_string(),
            exp: expires_at.unix_seconds(),
            iat: time::OffsetDateTime::now_utc().unix_timestamp(),
            jti: session.token_id.0.clone(),
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with an in-memory key cannot fail");
        (token, session)
    }

    fn decode(&self, token: &str, now: Timestamp) -> Result<Session, TokenRejection> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenRejection::Invalid)?;
        let claims = data.claims;
        let user: i64 = claims.sub.parse().map_err(|_| TokenRejection::Invalid)?;
        if claims.exp <= now.unix_seconds() {
            return Err(TokenRejection::Expired);
        }
        Ok(Session {
            user_id: UserId(user),
            token_id: TokenId(claims.jti),
            expires_at: Timestamp::from_unix_millis(claims.exp * 1000),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_unix_millis(secs * 1000)
    }

    #[test]
    fn round_trips_and_checks_expiry() {
        let codec = JwtCodec::new(b"secret");
        let (token, session) = codec.issue(UserId(7), at(2_000_000_000));
        let decoded = codec.decode(&token, at(1_900_000_000)).unwrap();
        assert_eq!(decoded, session);
        assert_eq!(
            codec.decode(&token, at(2_000_000_000)),
            Err(TokenRejection::Expired)
        );
    }

    #[test]
    fn refuses_other_secrets_algorithms_and_garbage() {
        let codec = JwtCodec::new(b"secret");
        let (token, _) = JwtCodec::new(b"other").issue(UserId(7), at(2_000_000_000));
        assert_eq!(codec.decode(&token, at(0)), Err(TokenRejection::Invalid));
        assert_eq!(codec.decode("garbage", at(0)), Err(TokenRejection::Invalid));
        // alg: none, with a valid-looking payload and no signature
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiI3IiwiZXhwIjo0MDAwMDAwMDAwLCJpYXQiOjAsImp0aSI6IngifQ.";
        assert_eq!(codec.decode(none, at(0)), Err(TokenRejection::Invalid));
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &Claims {
                sub: "7".into(),
                exp: 4_000_000_000,
                iat: 0,
                jti: "x".into(),
            },
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert_eq!(codec.decode(&hs512, at(0)), Err(TokenRejection::Invalid));
        // An RSA algorithm is refused before any key operation (deny.toml's rsa advisory).
        let rs256 = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI3IiwiZXhwIjo0MDAwMDAwMDAwLCJpYXQiOjAsImp0aSI6IngifQ.c2lnbmF0dXJl";
        assert_eq!(codec.decode(rs256, at(0)), Err(TokenRejection::Invalid));
    }
}
