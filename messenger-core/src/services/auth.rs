//! Registration, login, logout and token checks.

use super::Ports;
use crate::ports::{
    Clock, PasswordHasher, TokenCodec, TokenRejection, TokenRevocations, UserFeed, UserRepo,
};
use crate::validation::{normalize_phone, validate_password, validate_username};
use crate::{CoreError, FeedEvent, NewUser, Session, Timestamp, User};
use std::sync::{Arc, OnceLock};

/// How auth behaves.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// How long a token is valid, in seconds.
    pub token_ttl_secs: i64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            token_ttl_secs: 7 * 24 * 3600,
        }
    }
}

/// A signed-in user: the token to send back and who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    /// The bearer token.
    pub token: String,
    /// The user.
    pub user: User,
}

/// Register, login, logout, authenticate.
pub struct AuthService {
    users: Arc<dyn UserRepo>,
    hasher: Arc<dyn PasswordHasher>,
    tokens: Arc<dyn TokenCodec>,
    revocations: Arc<dyn TokenRevocations>,
    feed: Arc<dyn UserFeed>,
    clock: Arc<dyn Clock>,
    settings: AuthSettings,
    /// A hash to check unknown phones against, so that they cost what a wrong password costs.
    dummy_hash: OnceLock<String>,
}

impl AuthService {
    /// Builds the service.
    pub fn new(ports: &Ports, settings: AuthSettings) -> Self {
        AuthService {
            users: ports.users.clone(),
            hasher: ports.hasher.clone(),
            tokens: ports.tokens.clone(),
            revocations: ports.revocations.clone(),
            feed: ports.feed.clone(),
            clock: ports.clock.clone(),
            settings,
            dummy_hash: OnceLock::new(),
        }
    }

    /// Creates an account and signs it in.
    pub async fn register(
        &self,
        phone: &str,
        password: &str,
        username: &str,
    ) -> Result<SignedIn, CoreError> {
        let phone = normalize_phone(phone)?;
        validate_username(username)?;
        validate_password(password)?;
        // Cheap checks first, so a taken name does not cost a password hash; the store's own
        // uniqueness still decides races.
        if self.users.by_username(username).await?.is_some() {
            return Err(CoreError::UsernameTaken);
        }
        if self.users.credentials_by_phone(&phone).await?.is_some() {
            return Err(CoreError::PhoneTaken);
        }
        let password_hash = self.hasher.hash(password).await?;
        let user = self
            .users
            .create(NewUser {
                username: username.to_owned(),
                phone,
                password_hash,
                created_at: self.clock.now(),
            })
            .await?;
        Ok(self.sign_in(user))
    }

    /// Signs in with phone and password. Unknown phone and wrong password are one error, and
    /// cost the same time.
    pub async fn login(&self, phone: &str, password: &str) -> Result<SignedIn, CoreError> {
        let creds = match normalize_phone(phone) {
            Ok(phone) => self.users.credentials_by_phone(&phone).await?,
            Err(_) => None,
        };
        match creds {
            Some(creds) => {
                if self.hasher.verify(password, &creds.password_hash).await? {
                    Ok(self.sign_in(creds.user))
                } else {
                    Err(CoreError::InvalidCredentials)
                }
            }
            None => {
                let dummy = self.dummy_hash().await?;
                let _ = self.hasher.verify(password, &dummy).await?;
                Err(CoreError::InvalidCredentials)
            }
        }
    }

    /// Revokes this session's token (only this one) and closes its sockets on every node.
    pub async fn logout(&self, session: &Session) -> Result<(), CoreError> {
        self.revocations
            .revoke(&session.token_id, session.expires_at)
            .await?;
        self.feed
            .publish(
                &[session.user_id],
                FeedEvent::TokenRevoked {
                    token_id: session.token_id.clone(),
                },
            )
            .await?;
        Ok(())
    }

    /// The session a bearer token stands for: ours, unexpired, not revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Session, CoreError> {
        let session = self
            .tokens
            .decode(token, self.clock.now())
            .map_err(|rejection| match rejection {
                TokenRejection::Invalid => CoreError::Unauthorized("invalid token"),
                TokenRejection::Expired => CoreError::Unauthorized("token expired"),
            })?;
        if self.revocations.is_revoked(&session.token_id).await? {
            return Err(CoreError::Unauthorized("token revoked"));
        }
        Ok(session)
    }

    fn sign_in(&self, user: User) -> SignedIn {
        let expires_at = Timestamp::from_unix_millis(
            self.clock.now().unix_millis() + self.settings.token_ttl_secs * 1000,
        );
        let (token, _) = self.tokens.issue(user.id, expires_at);
        SignedIn { token, user }
    }

    async fn dummy_hash(&self) -> Result<String, CoreError> {
        if let Some(hash) = self.dummy_hash.get() {
            return Ok(hash.clone());
        }
        let hash = self.hasher.hash("not-a-real-password").await?;
        Ok(self.dummy_hash.get_or_init(|| hash).clone())
    }
}
