//! Users in memory.

use super::lock;
use async_trait::async_trait;
use messenger_core::ports::UserRepo;
use messenger_core::{NewUser, StoreError, User, UserCredentials, UserId};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

#[derive(Default)]
struct State {
    next_id: i64,
    users: HashMap<UserId, UserCredentials>,
    by_phone: HashMap<String, UserId>,
    /// Lower-cased username → id; ordered for prefix search.
    by_username: BTreeMap<String, UserId>,
}

/// Users in memory.
#[derive(Default)]
pub struct MemoryUserRepo {
    state: Mutex<State>,
}

#[async_trait]
impl UserRepo for MemoryUserRepo {
    async fn create(&self, new: NewUser) -> Result<User, StoreError> {
        let mut s = lock(&self.state);
        let key = new.username.to_lowercase();
        if s.by_phone.contains_key(&new.phone) {
            return Err(StoreError::PhoneTaken);
        }
        if s.by_username.contains_key(&key) {
            return Err(StoreError::UsernameTaken);
        }
        s.next_id += 1;
        let user = User {
            id: UserId(s.next_id),
            username: new.username,
            phone: new.phone,
            created_at: new.created_at,
        };
        s.by_phone.insert(user.phone.clone(), user.id);
        s.by_username.insert(key, user.id);
        s.users.insert(
            user.id,
            UserCredentials {
                user: user.clone(),
                password_hash: new.password_hash,
            },
        );
        Ok(user)
    }

    async fn by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        Ok(lock(&self.state).users.get(&id).map(|c| c.user.clone()))
    }

    async fn by_ids(&self, ids: &[UserId]) -> Result<Vec<User>, StoreError> {
        let s = lock(&self.state);
        Ok(ids
            .iter()
            .filter_map(|id| s.users.get(id).map(|c| c.user.clone()))
            .collect())
    }

    async fn by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        let s = lock(&self.state);
        Ok(s.by_username
            .get(&username.to_lowercase())
            .and_then(|id| s.users.get(id))
            .map(|c| c.user.clone()))
    }

    async fn credentials_by_phone(
        &self,
        phone: &str,
    ) -> Result<Option<UserCredentials>, StoreError> {
        let s = lock(&self.state);
        Ok(s.by_phone
            .get(phone)
            .and_then(|id| s.users.get(id))
            .cloned())
    }

    async fn search(
        &self,
        prefix: &str,
        phone: Option<String>,
        exclude: UserId,
        limit: usize,
    ) -> Result<Vec<User>, StoreError> {
        let s = lock(&self.state);
        let prefix = prefix.to_lowercase();
        let mut found: Vec<(String, User)> = s
            .by_username
            .range(prefix.clone()..)
            .take_while(|(name, _)| name.starts_with(&prefix))
            .filter(|(_, id)| **id != exclude)
            .take(limit)
            .filter_map(|(name, id)| s.users.get(id).map(|c| (name.clone(), c.user.clone())))
            .collect();
        if let Some(user) = phone
            .and_then(|p| s.by_phone.get(&p))
            .filter(|id| **id != exclude)
            .and_then(|id| s.users.get(id))
        {
            if !found.iter().any(|(_, u)| u.id == user.user.id) {
                found.push((user.user.username.to_lowercase(), user.user.clone()));
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found.truncate(limit);
        Ok(found.into_iter().map(|(_, u)| u).collect())
    }
}

#[cfg(test)]
mod tests {
    messenger_core::user_repo_contract!(super::MemoryUserRepo::default());
}
