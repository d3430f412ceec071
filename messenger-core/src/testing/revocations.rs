//! Contract of [`crate::ports::TokenRevocations`].

use super::at;
use crate::ports::TokenRevocations;
use crate::TokenId;

/// Expands to the `TokenRevocations` contract tests.
#[macro_export]
macro_rules! revocations_contract {
    ($make:expr) => {
        $crate::__contract_cases!(
            revocations,
            $make,
            [revoked_tokens_stay_revoked_and_others_do_not]
        );
    };
}

pub async fn revoked_tokens_stay_revoked_and_others_do_not(r: &dyn TokenRevocations) {
    let t1 = TokenId("t1".into());
    let t2 = TokenId("t2".into());
    assert!(!r.is_revoked(&t1).await.unwrap());
    r.revoke(&t1, at(1_000_000_000)).await.unwrap();
    assert!(r.is_revoked(&t1).await.unwrap());
    assert!(!r.is_revoked(&t2).await.unwrap());
}
