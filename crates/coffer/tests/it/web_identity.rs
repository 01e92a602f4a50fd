//! AssumeRoleWithWebIdentity against a real OpenID Connect issuer: one this test runs on
//! 127.0.0.1 over TLS (a certificate it makes, which Coffer is told to trust), serving a
//! discovery document and the keys of ES256 signing keys it generates; and the same with the
//! keys given to Coffer inline, with no issuer to reach.

use std::sync::Arc;

use aws_sdk_sts::error::ProvideErrorMetadata;
use base64::Engine;
use std::sync::Mutex as StdMutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Coffer, ROOT_KEY_ID, ROOT_SECRET, SessionKeys};

/// The root key every test server starts with.
const ROOT_KEY_ENV: ((&str, &str), (&str, &str)) = (
    ("COFFER_ROOT_ACCESS_KEY_ID", ROOT_KEY_ID),
    ("COFFER_ROOT_SECRET_ACCESS_KEY", ROOT_SECRET),
);

/// An ES256 signing key with its id.
struct SigningKey {
    kid: String,
    pair: rcgen::KeyPair,
}

impl SigningKey {
    fn new(kid: &str) -> SigningKey {
        SigningKey {
            kid: kid.to_owned(),
            pair: rcgen::KeyPair::generate().unwrap(),
        }
    }

    /// The public key as a JWK.
    fn jwk(&self) -> serde_json::Value {
        let raw = self.pair.public_key_raw();
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        serde_json::json!({"kty": "EC", "crv": "P-256", "kid": self.kid, "use": "sig", "alg": "ES256",
            "x": b64(&raw[1..33]), "y": b64(&raw[33..65])})
    }

    fn sign(&self, claims: &serde_json::Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let key = jsonwebtoken::EncodingKey::from_ec_pem(self.pair.serialize_pem().as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }
}

/// An issuer at `https://127.0.0.1:<port>` serving the public keys in `keys`.
struct Issuer {
    url: String,
    ca_file: tempfile::NamedTempFile,
    keys: Arc<StdMutex<Vec<serde_json::Value>>>,
}

impl Issuer {
    async fn start() -> Issuer {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let mut ca_file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut ca_file, certified.cert.pem().as_bytes()).unwrap();
        let chain = vec![certified.cert.der().clone()];
        let key = tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
        #[allow(deprecated)] // ring's provider serves a test's TLS well enough
        let provider = tokio_rustls::rustls::crypto::ring::default_provider();
        let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let keys: Arc<StdMutex<Vec<serde_json::Value>>> = Arc::default();
        let (served_url, served_keys) = (url.clone(), keys.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, url, keys) = (acceptor.clone(), served_url.clone(), served_keys.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let line = String::from_utf8_lossy(&request)
                        .lines()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let body = if line.starts_with("GET /.well-known/openid-configuration ") {
                        serde_json::json!({"issuer": url, "jwks_uri": format!("{url}/keys")}).to_string()
                    } else if line.starts_with("GET /keys ") {
                        serde_json::json!({"keys": *keys.lock().unwrap()}).to_string()
                    } else {
                        let _ = tls
                            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                            .await;
                        return;
                    };
                    let head = format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = tls.write_all(head.as_bytes()).await;
                    let _ = tls.write_all(body.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Issuer { url, ca_file, keys }
    }

    fn publish(&self, key: &SigningKey) {
        self.keys.lock().unwrap().push(key.jwk());
    }
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn claims(issuer: &str, aud: &str, sub: &str, exp: i64) -> serde_json::Value {
    serde_json::json!({"iss": issuer, "aud": aud, "sub": sub, "iat": now(), "exp": exp})
}

/// Registers the provider at `url` and a role `ci` trusting it for `sub` on `main`.
async fn provider_and_role(coffer: &Coffer, url: &str) -> String {
    let iam = coffer.root_iam();
    let created = iam
        .create_open_id_connect_provider()
        .url(url)
        .client_id_list("sts.amazonaws.com")
        .thumbprint_list("0".repeat(40))
        .send()
        .await
        .unwrap();
    let provider_arn = created.open_id_connect_provider_arn().unwrap().to_owned();
    let host = url.trim_start_matches("https://");
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"Federated":"{provider_arn}"}},
        "Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"{host}:aud":"sts.amazonaws.com"}},
        "StringLike":{{"{host}:sub":"repo:acme/app:ref:refs/heads/main"}}}}}}}}"#
    );
    let role = iam
        .create_role()
        .role_name("ci")
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name("ci")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    role.role().unwrap().arn().to_owned()
}

async fn assume(
    coffer: &Coffer,
    role_arn: &str,
    token: &str,
) -> Result<aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityOutput, (String, u16)> {
    // The request is unsigned: the client needs no credentials of its own.
    coffer
        .sts("AKIANOTUSEDATALLXXXX", "unused", "us-east-1")
        .assume_role_with_web_identity()
        .role_arn(role_arn)
        .role_session_name("run-7")
        .web_identity_token(token)
        .send()
        .await
        .map_err(|e| {
            let status = e.raw_response().map_or(0, |r| r.status().as_u16());
            (e.code().unwrap_or("?").to_owned(), status)
        })
}

const MAIN: &str = "repo:acme/app:ref:refs/heads/main";

/// A server given `key` inline as the keys of `https://ci.example.com` (no issuer to reach).
fn coffer_with_inline_keys(key: &SigningKey) -> Coffer {
    let mut jwks = tempfile::NamedTempFile::new().unwrap();
    let sets = serde_json::json!({"ci.example.com": {"keys": [key.jwk()]}});
    std::io::Write::write_all(&mut jwks, sets.to_string().as_bytes()).unwrap();
    // The file is read once at start, before the server says it serves.
    Coffer::start_with(&[
        ("COFFER_OIDC_JWKS_FILE", jwks.path().to_str().unwrap()),
        ROOT_KEY_ENV.0,
        ROOT_KEY_ENV.1,
    ])
}

#[tokio::test]
async fn a_token_from_a_registered_issuer_becomes_a_role_session() {
    let issuer = Issuer::start().await;
    let k1 = SigningKey::new("k1");
    issuer.publish(&k1);
    let ca = issuer.ca_file.path().to_str().unwrap().to_owned();
    let coffer = Coffer::start_with(&[("COFFER_OIDC_CA_FILE", &ca), ROOT_KEY_ENV.0, ROOT_KEY_ENV.1]);
    let account = coffer.account_id().await;
    let role_arn = provider_and_role(&coffer, &issuer.url).await;

    let token = k1.sign(&claims(&issuer.url, "sts.amazonaws.com", MAIN, now() + 300));
    let out = assume(&coffer, &role_arn, &token).await.unwrap();
    assert_eq!(out.subject_from_web_identity_token(), Some(MAIN));
    assert_eq!(out.audience(), Some("sts.amazonaws.com"));
    assert_eq!(out.provider(), Some(issuer.url.as_str()));
    let arn = format!("arn:aws:sts::{account}:assumed-role/ci/run-7");
    assert_eq!(out.assumed_role_user().unwrap().arn(), arn);
    let session = SessionKeys::of(out.credentials().unwrap());
    let me = coffer.sts_session(&session).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some(arn.as_str()));
    coffer.s3_session(&session).list_buckets().send().await.unwrap();

    // The trust policy's conditions: another branch is not let in.
    let other_branch = k1.sign(&claims(
        &issuer.url,
        "sts.amazonaws.com",
        "repo:acme/app:ref:refs/heads/dev",
        now() + 300,
    ));
    assert_eq!(
        assume(&coffer, &role_arn, &other_branch).await.unwrap_err(),
        ("AccessDenied".into(), 403)
    );
    // An audience that is not a client id of the provider.
    let wrong_aud = k1.sign(&claims(&issuer.url, "someone-else", MAIN, now() + 300));
    assert_eq!(
        assume(&coffer, &role_arn, &wrong_aud).await.unwrap_err(),
        ("InvalidIdentityToken".into(), 400)
    );
    // Expired.
    let expired = k1.sign(&claims(&issuer.url, "sts.amazonaws.com", MAIN, now() - 10));
    assert_eq!(
        assume(&coffer, &role_arn, &expired).await.unwrap_err(),
        ("ExpiredTokenException".into(), 400)
    );
    // Signed by a key the issuer does not publish, under a known key id or an unknown one.
    let forged = SigningKey::new("k1").sign(&claims(&issuer.url, "sts.amazonaws.com", MAIN, now() + 300));
    assert_eq!(
        assume(&coffer, &role_arn, &forged).await.unwrap_err(),
        ("InvalidIdentityToken".into(), 400)
    );
    // A rotated key is fetched when a token first names it.
    let k2 = SigningKey::new("k2");
    issuer.publish(&k2);
    let rotated = k2.sign(&claims(&issuer.url, "sts.amazonaws.com", MAIN, now() + 300));
    assert!(assume(&coffer, &role_arn, &rotated).await.is_ok());
    // Garbage, a shared-secret signature, an issuer no provider of the account stands for.
    assert_eq!(
        assume(&coffer, &role_arn, "not.a.jwt").await.unwrap_err(),
        ("InvalidIdentityToken".into(), 400)
    );
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims(&issuer.url, "sts.amazonaws.com", MAIN, now() + 300),
        &jsonwebtoken::EncodingKey::from_secret(b"guessable"),
    )
    .unwrap();
    assert_eq!(
        assume(&coffer, &role_arn, &hs256).await.unwrap_err(),
        ("InvalidIdentityToken".into(), 400)
    );
    let stranger = k1.sign(&claims(
        "https://elsewhere.example.com",
        "sts.amazonaws.com",
        MAIN,
        now() + 300,
    ));
    assert_eq!(
        assume(&coffer, &role_arn, &stranger).await.unwrap_err(),
        ("InvalidIdentityToken".into(), 400)
    );
}

#[tokio::test]
async fn an_issuer_coffer_cannot_reach_or_does_not_trust_is_a_communication_error() {
    let issuer = Issuer::start().await;
    let k1 = SigningKey::new("k1");
    issuer.publish(&k1);
    // No CA file: the issuer's certificate is not trusted.
    let coffer = Coffer::start();
    let role_arn = provider_and_role(&coffer, &issuer.url).await;
    let token = k1.sign(&claims(&issuer.url, "sts.amazonaws.com", MAIN, now() + 300));
    assert_eq!(
        assume(&coffer, &role_arn, &token).await.unwrap_err(),
        ("IDPCommunicationError".into(), 400)
    );
}

/// A role trusting `{"AWS": "*"}` is open to AWS principals its conditions admit, not to
/// every token of every provider the account registered.
#[tokio::test]
async fn a_role_trusting_any_aws_principal_does_not_trust_web_identities() {
    let k1 = SigningKey::new("ci-1");
    let coffer = coffer_with_inline_keys(&k1);
    provider_and_role(&coffer, "https://ci.example.com").await;
    let open = coffer
        .root_iam()
        .create_role()
        .role_name("open")
        .assume_role_policy_document(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRoleWithWebIdentity"}}"#,
        )
        .send()
        .await
        .unwrap();
    let token = k1.sign(&claims(
        "https://ci.example.com",
        "sts.amazonaws.com",
        MAIN,
        now() + 300,
    ));
    let err = assume(&coffer, open.role().unwrap().arn(), &token).await.unwrap_err();
    assert_eq!(err, ("AccessDenied".into(), 403));
}

#[tokio::test]
async fn keys_given_inline_need_no_issuer_to_reach() {
    let k1 = SigningKey::new("ci-1");
    let coffer = coffer_with_inline_keys(&k1);
    let role_arn = provider_and_role(&coffer, "https://ci.example.com").await;
    let token = k1.sign(&claims(
        "https://ci.example.com",
        "sts.amazonaws.com",
        MAIN,
        now() + 300,
    ));
    let out = assume(&coffer, &role_arn, &token).await.unwrap();
    assert!(out.credentials().unwrap().access_key_id().starts_with("ASIA"));
}

/// Session tags and a source identity from the token's AWS claims: allowed only when the trust
/// policy allows sts:TagSession / sts:SetSourceIdentity, then the session's principal tags.
#[tokio::test]
async fn a_tokens_session_tags_need_tag_session_and_then_apply() {
    let k1 = SigningKey::new("ci-1");
    let coffer = coffer_with_inline_keys(&k1);
    let account = coffer.account_id().await;
    let role_arn = provider_and_role(&coffer, "https://ci.example.com").await;
    let s3 = coffer.root_s3();
    for bucket in ["team-blue", "team-red"] {
        s3.create_bucket().bucket(bucket).send().await.unwrap();
    }
    let iam = coffer.root_iam();
    iam.detach_role_policy()
        .role_name("ci")
        .policy_arn("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        .send()
        .await
        .unwrap();
    iam.put_role_policy()
        .role_name("ci")
        .policy_name("by-team")
        .policy_document(r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::team-${aws:PrincipalTag/team}"}}"#)
        .send()
        .await
        .unwrap();
    let mut tagged = claims("https://ci.example.com", "sts.amazonaws.com", MAIN, now() + 300);
    tagged["https://aws.amazon.com/tags"] = serde_json::json!({"principal_tags": {"team": ["blue"]}});
    tagged["https://aws.amazon.com/source_identity"] = serde_json::json!("deploy-bot");
    let token = k1.sign(&tagged);
    // The trust policy allows only AssumeRoleWithWebIdentity: the token's tags are refused.
    assert_eq!(
        assume(&coffer, &role_arn, &token).await.unwrap_err(),
        ("AccessDenied".into(), 403)
    );
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"Federated":"arn:aws:iam::{account}:oidc-provider/ci.example.com"}},"Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession","sts:SetSourceIdentity"]}}}}"#
    );
    iam.update_assume_role_policy()
        .role_name("ci")
        .policy_document(trust)
        .send()
        .await
        .unwrap();
    let out = assume(&coffer, &role_arn, &token).await.unwrap();
    assert_eq!(out.source_identity(), Some("deploy-bot"));
    let session = coffer.s3_session(&SessionKeys::of(out.credentials().unwrap()));
    session.list_objects_v2().bucket("team-blue").send().await.unwrap();
    let err = session.list_objects_v2().bucket("team-red").send().await.unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
}
