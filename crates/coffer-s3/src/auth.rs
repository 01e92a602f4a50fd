//! Secret keys for s3s's signature check, from the store (cached there).

use crate::error::S3Fault;
use coffer_store::{KeyStatus, Store};
use s3s::S3Result;
use s3s::auth::{S3Auth, SecretKey};

pub struct StoreAuth {
    store: Store,
}

impl StoreAuth {
    pub fn new(store: Store) -> Self {
        StoreAuth { store }
    }
}

#[async_trait::async_trait]
impl S3Auth for StoreAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        match self.store.credential(access_key).await {
            Ok(Some(credential)) if credential.status == KeyStatus::Active => {
                Ok(SecretKey::from(credential.secret_access_key.clone()))
            }
            Ok(_) => Err(S3Fault::InvalidAccessKeyId.into()),
            Err(err) => Err(S3Fault::from(err).into()),
        }
    }
}
