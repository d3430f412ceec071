//! Profiles and people search.

use super::Ports;
use crate::ports::{Presence, UserRepo};
use crate::validation::normalize_phone;
use crate::{CoreError, User, UserId, UserView};
use std::sync::Arc;

/// Profiles and search.
pub struct UserService {
    users: Arc<dyn UserRepo>,
    presence: Arc<dyn Presence>,
}

impl UserService {
    /// Builds the service.
    pub fn new(ports: &Ports) -> Self {
        UserService {
            users: ports.users.clone(),
            presence: ports.presence.clone(),
        }
    }

    /// The caller's own profile.
    pub async fn me(&self, caller: UserId) -> Result<UserView, CoreError> {
        let user = self
            .users
            .by_id(caller)
            .await?
            .ok_or(CoreError::Unauthorized(
                "the user of this token no longer exists",
            ))?;
        Ok(self.with_presence(vec![user]).await?.remove(0))
    }

    /// Anyone's public profile, by id (a messenger shows who wrote what, so any signed-in
    /// user may look up any id; the phone is left to the API, which shows it only to its owner).
    pub async fn profile(&self, id: UserId) -> Result<UserView, CoreError> {
        let user = self
            .users
            .by_id(id)
            .await?
            .ok_or(CoreError::NotFound("user"))?;
        Ok(self.with_presence(vec![user]).await?.remove(0))
    }

    /// Users whose username starts with `query` (ignoring case), or whose phone is `query`;
    /// the caller left out.
    pub async fn search(
        &self,
        caller: UserId,
        query: &str,
        limit: usize,
    ) -> Result<Vec<UserView>, CoreError> {
        let query = query.trim();
        if query.is_empty() {
            return Err(CoreError::invalid("q", "must not be empty"));
        }
        let phone = normalize_phone(query).ok();
        let found = self.users.search(query, phone, caller, limit).await?;
        self.with_presence(found).await
    }

    /// Adds the `online` flag to users.
    pub async fn with_presence(&self, users: Vec<User>) -> Result<Vec<UserView>, CoreError> {
        let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
        let online = self.presence.online_among(&ids).await?;
        Ok(users
            .into_iter()
            .map(|user| UserView {
                online: online.contains(&user.id),
                user,
            })
            .collect())
    }
}
