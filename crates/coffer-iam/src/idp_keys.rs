//! The signing keys of OpenID Connect identity providers: fetched from the issuer's discovery
//! document (`<issuer>/.well-known/openid-configuration`, then its `jwks_uri`), over TLS
//! checked against the system's roots and any the operator adds, and kept for an hour; or
//! given inline by the operator, for hosts that cannot reach their issuer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use parking_lot::Mutex;

/// How long fetched keys are used before they are fetched again.
const KEYS_TTL: Duration = Duration::from_secs(3600);
/// A token signed by a key the cached set lacks makes a refetch, at most once in this long
/// (a provider rotating keys is seen at once; garbage tokens cannot make Coffer hammer it).
const MISS_REFETCH_EVERY: Duration = Duration::from_secs(60);
/// What Coffer reads of a discovery document or key set, and how long it waits for one.
const MAX_DOCUMENT: usize = 1024 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// After a failed fetch, tokens naming the provider fail at once for this long: a provider
/// down or slow costs one fetch per period, not two per request anyone sends.
const FAILURE_BACKOFF: Duration = Duration::from_secs(30);

/// Why a provider's keys could not be had (STS answers `IDPCommunicationError`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct FetchError(String);

/// What the operator configures: extra trusted roots, and key sets given inline.
#[derive(Clone, Debug, Default)]
pub struct IdpSettings {
    /// PEM certificates trusted besides the system's when fetching from issuers.
    pub extra_roots_pem: Option<Vec<u8>>,
    /// Key sets by provider URL (the issuer without `https://`), as JWKS JSON.
    pub inline_jwks: HashMap<String, String>,
}

/// Providers' keys. Cheap to clone.
#[derive(Clone)]
pub struct IdpKeys {
    client: reqwest::Client,
    inline: Arc<HashMap<String, Arc<JwkSet>>>,
    fetched: Arc<Mutex<HashMap<String, Fetched>>>,
    /// When fetching each provider's keys last failed.
    failed: Arc<Mutex<HashMap<String, Instant>>>,
}

/// A provider's keys as last fetched.
#[derive(Clone)]
struct Fetched {
    at: Instant,
    keys: Arc<JwkSet>,
    /// When a token's unknown key last made a refetch.
    miss_refetched: Option<Instant>,
}

impl std::fmt::Debug for IdpKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdpKeys").field("inline", &self.inline.keys()).finish()
    }
}

impl Default for IdpKeys {
    fn default() -> Self {
        IdpKeys::new(&IdpSettings::default()).expect("the default settings are valid")
    }
}

impl IdpKeys {
    pub fn new(settings: &IdpSettings) -> Result<IdpKeys, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true);
        if let Some(pem) = &settings.extra_roots_pem {
            let roots = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("OIDC CA file: {e}"))?;
            if roots.is_empty() {
                return Err("OIDC CA file: no certificate in it".to_owned());
            }
            for root in roots {
                builder = builder.add_root_certificate(root);
            }
        }
        let client = builder.build().map_err(|e| format!("OIDC client: {e}"))?;
        let mut inline = HashMap::new();
        for (url, text) in &settings.inline_jwks {
            let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("inline JWKS for {url}: {e}"))?;
            inline.insert(url.trim_end_matches('/').to_owned(), Arc::new(set));
        }
        Ok(IdpKeys {
            client,
            inline: Arc::new(inline),
            fetched: Arc::default(),
            failed: Arc::default(),
        })
    }

    /// The keys of the provider at `url` (the issuer without `https://`). `missed`: the
    /// cached set lacked the token's key, so fetch again unless a miss did so lately.
    pub async fn keys(&self, url: &str, missed: bool) -> Result<Arc<JwkSet>, FetchError> {
        if let Some(set) = self.inline.get(url) {
            return Ok(set.clone());
        }
        let cached = self.fetched.lock().get(url).cloned();
        let mut miss_refetched = None;
        if let Some(cached) = cached {
            miss_refetched = cached.miss_refetched;
            let stale = cached.at.elapsed() >= KEYS_TTL;
            let may_refetch = cached
                .miss_refetched
                .is_none_or(|at| at.elapsed() >= MISS_REFETCH_EVERY);
            let refetch = stale || (missed && may_refetch);
            if !refetch {
                return Ok(cached.keys);
            }
        }
        if self
            .failed
            .lock()
            .get(url)
            .is_some_and(|at| at.elapsed() < FAILURE_BACKOFF)
        {
            return Err(FetchError(format!(
                "fetching {url}'s keys failed less than {FAILURE_BACKOFF:?} ago"
            )));
        }
        let keys = match self.fetch(url).await {
            Ok(keys) => Arc::new(keys),
            Err(err) => {
                let mut failed = self.failed.lock();
                // Bounded by the providers accounts registered; old failures are forgotten.
                failed.retain(|_, at| at.elapsed() < FAILURE_BACKOFF);
                failed.insert(url.to_owned(), Instant::now());
                return Err(err);
            }
        };
        self.failed.lock().remove(url);
        let now = Instant::now();
        let fetched = Fetched {
            at: now,
            keys: keys.clone(),
            miss_refetched: if missed { Some(now) } else { miss_refetched },
        };
        self.fetched.lock().insert(url.to_owned(), fetched);
        Ok(keys)
    }

    async fn fetch(&self, url: &str) -> Result<JwkSet, FetchError> {
        let discovery = format!("https://{url}/.well-known/openid-configuration");
        let document: serde_json::Value = self.get_json(&discovery).await?;
        let jwks_uri = document
            .get("jwks_uri")
            .and_then(serde_json::Value::as_str)
            .filter(|uri| uri.starts_with("https://"))
            .ok_or_else(|| FetchError(format!("{discovery} names no https jwks_uri")))?
            .to_owned();
        self.get_json(&jwks_uri).await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, uri: &str) -> Result<T, FetchError> {
        let failed = |e: &dyn std::fmt::Display| FetchError(format!("Couldn't retrieve {uri}: {e}"));
        let mut response = self.client.get(uri).send().await.map_err(|e| failed(&e))?;
        if !response.status().is_success() {
            return Err(failed(&format!("HTTP {}", response.status())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(&e))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT {
                return Err(failed(&"larger than 1 MiB"));
            }
        }
        serde_json::from_slice(&body).map_err(|e| failed(&e))
    }
}
