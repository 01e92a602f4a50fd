//! Configuration: built-in defaults, overridden by a TOML file (`--config`), overridden by
//! `COFFER_*` environment variables and flags (clap reads both).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

pub const DEFAULT_DATA_DIR: &str = "./coffer-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9000";
pub const DEFAULT_CONSOLE_LISTEN: &str = "127.0.0.1:9001";

#[derive(Parser, Debug)]
#[command(name = "coffer", version, about = "AWS-compatible IAM, STS and S3 in one binary")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the S3, IAM and STS APIs (and, on its own listener, the console).
    Serve(ServeArgs),
    /// Manage accounts (works while `coffer serve` runs on the same data dir).
    #[command(subcommand)]
    Account(AccountCommand),
    /// Manage the metadata database.
    #[command(subcommand)]
    Db(DbCommand),
    /// Certificates for HTTPS.
    #[command(subcommand)]
    Tls(TlsCommand),
}

#[derive(Subcommand, Debug)]
pub enum TlsCommand {
    /// Write a self-signed certificate and its key (cert.pem, key.pem) for local HTTPS:
    /// `coffer serve --tls-cert cert.pem --tls-key key.pem`, and `aws --ca-bundle cert.pem`.
    SelfSigned {
        /// A name or address the certificate is for (repeat for more)
        #[arg(long = "host", required = true)]
        hosts: Vec<String>,
        /// Where to write cert.pem and key.pem
        #[arg(long, default_value = ".")]
        out_dir: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Copy an installation's metadata to another, empty database (SQLite to PostgreSQL to grow
    /// to several nodes, or back). Stop every `coffer serve` first; object files stay in the
    /// data dir, and the master key must come along with it.
    Copy {
        /// The database to copy from, e.g. sqlite://./coffer-data/meta.db
        #[arg(long)]
        from: String,
        /// The empty database to copy into, e.g. postgres://coffer@db/coffer
        #[arg(long)]
        to: String,
    },
}

#[derive(Args, Debug, Default)]
pub struct ServeArgs {
    /// A TOML file with any of: data_dir, database_url, database_pool_size,
    /// database_timeout_secs, orphan_grace_secs, listen, console_listen, domain, idle_timeout_secs,
    /// trusted_proxies, console_idle_timeout_secs, oidc_ca_file, oidc_jwks_file, lifecycle_day_secs,
    /// new_bucket_defaults, allow_sse_c_over_http, tls_cert, tls_key, log_format, metrics_token,
    /// audit_events, audit_dir, audit_bucket, audit_delivery_secs, access_log_roll_secs.
    #[arg(long, env = "COFFER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where metadata and object files live [default: ./coffer-data]
    #[arg(long, env = "COFFER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The metadata database: sqlite://PATH or postgres://USER@HOST/DB
    /// [default: sqlite in the data dir]
    #[arg(long, env = "COFFER_DATABASE_URL")]
    pub database_url: Option<String>,
    /// PostgreSQL: connections this node holds [default: 10]
    #[arg(long, env = "COFFER_DATABASE_POOL_SIZE")]
    pub database_pool_size: Option<u32>,
    /// Seconds a request waits for the database before it fails with 503 [default: 5]
    #[arg(long, env = "COFFER_DATABASE_TIMEOUT_SECS")]
    pub database_timeout_secs: Option<u64>,
    /// Seconds a file no row names must sit untouched before it is removed [default: 0 on
    /// SQLite; 3600 on PostgreSQL, where other nodes may be writing to the data dir]
    #[arg(long, env = "COFFER_ORPHAN_GRACE_SECS")]
    pub orphan_grace_secs: Option<u64>,
    /// Address of the S3/IAM/STS endpoint [default: 127.0.0.1:9000]
    #[arg(long, env = "COFFER_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Address of the web console [default: 127.0.0.1:9001]
    #[arg(long, env = "COFFER_CONSOLE_LISTEN")]
    pub console_listen: Option<SocketAddr>,
    /// Serve `<bucket>.<domain>` virtual-hosted style (path style always works) [default: none]
    #[arg(long, env = "COFFER_DOMAIN")]
    pub domain: Option<String>,
    /// Seconds a client may send nothing (headers or body) before its request fails [default: 60]
    #[arg(long, env = "COFFER_IDLE_TIMEOUT_SECS")]
    pub idle_timeout_secs: Option<u64>,
    /// Seconds a console session may sit unused before it ends [default: 1800]
    #[arg(long, env = "COFFER_CONSOLE_IDLE_TIMEOUT_SECS")]
    pub console_idle_timeout_secs: Option<u64>,
    /// Addresses or CIDRs of TLS-terminating proxies whose X-Forwarded-For and
    /// X-Forwarded-Proto decide aws:SourceIp and aws:SecureTransport, comma-separated
    /// [default: none; those headers are ignored]
    #[arg(long, env = "COFFER_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// PEM certificates trusted, besides the system's, when fetching OpenID Connect providers'
    /// keys (AssumeRoleWithWebIdentity) [default: the system's roots only]
    #[arg(long, env = "COFFER_OIDC_CA_FILE")]
    pub oidc_ca_file: Option<PathBuf>,
    /// A JSON file of providers' key sets given inline, for hosts that cannot reach their
    /// issuers: {"<provider url without https://>": {"keys": [...]}, ...} [default: none]
    #[arg(long, env = "COFFER_OIDC_JWKS_FILE")]
    pub oidc_jwks_file: Option<PathBuf>,
    /// Seconds in a lifecycle "day", for tests that watch rules expire objects
    /// [default: 86400]
    #[arg(long, env = "COFFER_LIFECYCLE_DAY_SECS")]
    pub lifecycle_day_secs: Option<u64>,
    /// What a new bucket starts with: `current` is AWS's since April 2023 (Block Public
    /// Access on, ACLs disabled by BucketOwnerEnforced); `pre-2023` is AWS's before (neither,
    /// so ACLs are in force as ObjectWriter), for software and test suites written then
    /// [default: current]
    #[arg(long, env = "COFFER_NEW_BUCKET_DEFAULTS")]
    pub new_bucket_defaults: Option<BucketDefaults>,
    /// Take SSE-C keys (customer-provided encryption keys) over plain HTTP; S3 refuses them
    /// without TLS, and so does Coffer unless a trusted proxy says the client spoke TLS. For
    /// tests and for proxies not listed in --trusted-proxies [default: false]
    #[arg(long, env = "COFFER_ALLOW_SSE_C_OVER_HTTP")]
    pub allow_sse_c_over_http: Option<bool>,
    /// Serve HTTPS with this certificate chain (PEM; with --tls-key). Read again on SIGHUP,
    /// so a renewed certificate takes effect without a restart [default: plain HTTP]
    #[arg(long, env = "COFFER_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1)
    #[arg(long, env = "COFFER_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// How log lines are written: `text` for people, `json` (one object per line) for log
    /// collectors [default: text]
    #[arg(long, env = "COFFER_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Serve Prometheus metrics at /_coffer/metrics to requests bearing this token
    /// (`Authorization: Bearer …`) [default: metrics off]
    #[arg(long, env = "COFFER_METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// Which calls the audit trail records: `management` (IAM, STS, console sign-in and
    /// bucket-level S3 calls), `all` (also S3's object-level calls), or `none`
    /// [default: management]
    #[arg(long, env = "COFFER_AUDIT_EVENTS")]
    pub audit_events: Option<AuditEvents>,
    /// Where the audit trail's journal files live [default: audit/ in the data dir]
    #[arg(long, env = "COFFER_AUDIT_DIR")]
    pub audit_dir: Option<PathBuf>,
    /// Deliver the audit trail into this bucket, as gzipped CloudTrail log files under
    /// AWSLogs/ [default: not delivered]
    #[arg(long, env = "COFFER_AUDIT_BUCKET")]
    pub audit_bucket: Option<String>,
    /// How often the audit trail's journal is closed into a file and delivered
    /// [default: 300]
    #[arg(long, env = "COFFER_AUDIT_DELIVERY_SECS")]
    pub audit_delivery_secs: Option<u64>,
    /// How long S3 server access-log records wait before they are delivered to their target
    /// bucket [default: 300]
    #[arg(long, env = "COFFER_ACCESS_LOG_ROLL_SECS")]
    pub access_log_roll_secs: Option<u64>,
}

/// Which calls the audit trail records.
#[derive(clap::ValueEnum, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AuditEvents {
    None,
    #[default]
    Management,
    All,
}

/// How log lines are written.
#[derive(clap::ValueEnum, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// AWS's defaults for new buckets, then and now.
#[derive(clap::ValueEnum, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum BucketDefaults {
    #[default]
    Current,
    #[value(name = "pre-2023")]
    #[serde(rename = "pre-2023")]
    Pre2023,
}

impl BucketDefaults {
    pub fn new_bucket(self) -> coffer_store::NewBucket {
        match self {
            BucketDefaults::Current => coffer_store::NewBucket::CURRENT_DEFAULTS,
            BucketDefaults::Pre2023 => coffer_store::NewBucket::PRE_2023_DEFAULTS,
        }
    }
}

/// A CIDR (`10.0.0.0/8`) or a single address (`127.0.0.1`).
pub fn parse_network(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("not an address or CIDR: {text}"))
}

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Create an account; prints {"AccountId","AccessKeyId","SecretAccessKey"} as JSON.
    Create {
        name: String,
        #[command(flatten)]
        data: DataDirArgs,
    },
    /// List the accounts as JSON.
    List {
        #[command(flatten)]
        data: DataDirArgs,
    },
    /// Set the root user's console password, read from the first line of standard input.
    SetRootPassword {
        /// The account's id or name [default: the default account]
        #[arg(long)]
        account: Option<String>,
        #[command(flatten)]
        data: DataDirArgs,
    },
}

#[derive(Args, Debug)]
pub struct DataDirArgs {
    /// The data dir of the Coffer to manage [default: ./coffer-data]
    #[arg(long, env = "COFFER_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Its metadata database [default: sqlite in the data dir]
    #[arg(long, env = "COFFER_DATABASE_URL")]
    pub database_url: Option<String>,
    /// A TOML file whose data_dir and database_url are used when not given here.
    #[arg(long, env = "COFFER_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Where an installation keeps its state: object files (and SQLite's file, and the master
/// key) in the data dir; metadata in the database the URL names, SQLite in the data dir when
/// none is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreLocation {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
}

/// The TOML file's shape: every key optional, unknown keys refused.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub database_pool_size: Option<u32>,
    pub database_timeout_secs: Option<u64>,
    pub orphan_grace_secs: Option<u64>,
    pub listen: Option<SocketAddr>,
    pub console_listen: Option<SocketAddr>,
    pub domain: Option<String>,
    pub idle_timeout_secs: Option<u64>,
    pub trusted_proxies: Option<Vec<String>>,
    pub console_idle_timeout_secs: Option<u64>,
    pub oidc_ca_file: Option<PathBuf>,
    pub oidc_jwks_file: Option<PathBuf>,
    pub lifecycle_day_secs: Option<u64>,
    pub new_bucket_defaults: Option<BucketDefaults>,
    pub allow_sse_c_over_http: Option<bool>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    pub metrics_token: Option<String>,
    pub audit_events: Option<AuditEvents>,
    pub audit_dir: Option<PathBuf>,
    pub audit_bucket: Option<String>,
    pub audit_delivery_secs: Option<u64>,
    pub access_log_roll_secs: Option<u64>,
}

/// The settings `coffer serve` runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServeConfig {
    pub store: StoreLocation,
    /// PostgreSQL's pool size and how long a request waits for the database.
    pub database_pool_size: u32,
    pub database_timeout: std::time::Duration,
    /// How long an unnamed file must sit untouched before it is removed; `None`: the
    /// backend's default.
    pub orphan_grace: Option<std::time::Duration>,
    pub listen: SocketAddr,
    pub console_listen: SocketAddr,
    pub domain: Option<String>,
    pub idle_timeout: std::time::Duration,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub console_idle_timeout: std::time::Duration,
    /// Where OpenID Connect providers' keys come from.
    pub oidc_ca_file: Option<PathBuf>,
    pub oidc_jwks_file: Option<PathBuf>,
    /// How long a lifecycle "day" is.
    pub lifecycle_day: std::time::Duration,
    pub new_bucket_defaults: BucketDefaults,
    pub allow_sse_c_over_http: bool,
    /// HTTPS's certificate chain and key files; `None`: plain HTTP.
    pub tls: Option<crate::tls::TlsFiles>,
    /// The bearer token of /_coffer/metrics; `None`: metrics off.
    pub metrics_token: Option<String>,
    pub audit: AuditConfig,
    /// How long server access-log records wait before delivery.
    pub access_log_roll: std::time::Duration,
}

/// The audit trail's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    pub events: AuditEvents,
    pub dir: PathBuf,
    /// The bucket the trail is delivered into, if any.
    pub bucket: Option<String>,
    pub delivery_every: std::time::Duration,
}

const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 60;
const DEFAULT_CONSOLE_IDLE_TIMEOUT_SECS: u64 = 30 * 60;

pub fn read_file(path: Option<&Path>) -> Result<FileConfig, String> {
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

impl ServeConfig {
    pub fn resolve(args: &ServeArgs) -> Result<ServeConfig, String> {
        let file = read_file(args.config.as_deref())?;
        let default_addr = |text: &str| text.parse::<SocketAddr>().expect("built-in addresses parse");
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        Ok(ServeConfig {
            store: StoreLocation {
                data_dir: data_dir.clone(),
                database_url: args.database_url.clone().or(file.database_url),
            },
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| default_addr(DEFAULT_LISTEN)),
            console_listen: args
                .console_listen
                .or(file.console_listen)
                .unwrap_or_else(|| default_addr(DEFAULT_CONSOLE_LISTEN)),
            database_pool_size: args
                .database_pool_size
                .or(file.database_pool_size)
                .unwrap_or(coffer_store::POSTGRES_POOL_SIZE)
                .max(2),
            database_timeout: std::time::Duration::from_secs(
                args.database_timeout_secs
                    .or(file.database_timeout_secs)
                    .unwrap_or(5)
                    .max(1),
            ),
            orphan_grace: args
                .orphan_grace_secs
                .or(file.orphan_grace_secs)
                .map(std::time::Duration::from_secs),
            domain: args.domain.clone().or(file.domain),
            idle_timeout: std::time::Duration::from_secs(
                args.idle_timeout_secs
                    .or(file.idle_timeout_secs)
                    .unwrap_or(DEFAULT_IDLE_TIMEOUT_SECS)
                    .max(1),
            ),
            console_idle_timeout: std::time::Duration::from_secs(
                args.console_idle_timeout_secs
                    .or(file.console_idle_timeout_secs)
                    .unwrap_or(DEFAULT_CONSOLE_IDLE_TIMEOUT_SECS)
                    .max(1),
            ),
            trusted_proxies: if args.trusted_proxies.is_empty() {
                let listed = file.trusted_proxies.unwrap_or_default();
                listed
                    .iter()
                    .map(|text| parse_network(text))
                    .collect::<Result<_, _>>()?
            } else {
                args.trusted_proxies.clone()
            },
            oidc_ca_file: args.oidc_ca_file.clone().or(file.oidc_ca_file),
            oidc_jwks_file: args.oidc_jwks_file.clone().or(file.oidc_jwks_file),
            lifecycle_day: args
                .lifecycle_day_secs
                .or(file.lifecycle_day_secs)
                .map(|secs| std::time::Duration::from_secs(secs.max(1)))
                .unwrap_or(coffer_store::LIFECYCLE_DAY),
            new_bucket_defaults: args
                .new_bucket_defaults
                .or(file.new_bucket_defaults)
                .unwrap_or_default(),
            allow_sse_c_over_http: args
                .allow_sse_c_over_http
                .or(file.allow_sse_c_over_http)
                .unwrap_or(false),
            tls: match (
                args.tls_cert.clone().or(file.tls_cert),
                args.tls_key.clone().or(file.tls_key),
            ) {
                (Some(cert), Some(key)) => Some(crate::tls::TlsFiles { cert, key }),
                (None, None) => None,
                _ => return Err("--tls-cert and --tls-key go together: give both or neither".to_owned()),
            },
            metrics_token: args.metrics_token.clone().or(file.metrics_token),
            audit: AuditConfig {
                events: args.audit_events.or(file.audit_events).unwrap_or_default(),
                dir: args
                    .audit_dir
                    .clone()
                    .or(file.audit_dir)
                    .unwrap_or_else(|| data_dir.join("audit")),
                bucket: args.audit_bucket.clone().or(file.audit_bucket),
                delivery_every: std::time::Duration::from_secs(
                    args.audit_delivery_secs
                        .or(file.audit_delivery_secs)
                        .unwrap_or(300)
                        .max(1),
                ),
            },
            access_log_roll: std::time::Duration::from_secs(
                args.access_log_roll_secs
                    .or(file.access_log_roll_secs)
                    .unwrap_or(300)
                    .max(1),
            ),
        })
    }
}

impl DataDirArgs {
    pub fn resolve(&self) -> Result<StoreLocation, String> {
        let file = read_file(self.config.as_deref())?;
        Ok(StoreLocation {
            data_dir: self
                .data_dir
                .clone()
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            database_url: self.database_url.clone().or(file.database_url),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = std::env::temp_dir().join(format!("coffer-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("coffer.toml");
        std::fs::write(
            &file,
            "data_dir = \"/srv/coffer\"\nlisten = \"0.0.0.0:9100\"\ndatabase_url = \"postgres://coffer@db/coffer\"\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(file.clone()),
            listen: Some("127.0.0.1:9200".parse().unwrap()),
            ..ServeArgs::default()
        };
        let config = ServeConfig::resolve(&args).unwrap();
        assert_eq!(config.store.data_dir, PathBuf::from("/srv/coffer"));
        assert_eq!(
            config.store.database_url.as_deref(),
            Some("postgres://coffer@db/coffer")
        );
        assert_eq!(config.listen, "127.0.0.1:9200".parse().unwrap());
        assert_eq!(config.console_listen, DEFAULT_CONSOLE_LISTEN.parse().unwrap());
        std::fs::write(&file, "listn = \"x\"\n").unwrap();
        assert!(ServeConfig::resolve(&args).is_err(), "unknown keys are refused");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_cli_parses_every_flag() {
        Cli::command_for_test();
    }

    impl Cli {
        fn command_for_test() {
            use clap::CommandFactory;
            Cli::command().debug_assert();
        }
    }
}

#[cfg(test)]
mod documented {
    use super::*;
    use clap::CommandFactory;

    const PAGE: &str = include_str!("../../../docs/configuration.md");

    /// The option a row of the page is about (`| `--data-dir DIR` | …` → `data-dir`).
    fn row_option(row: &str) -> Option<&str> {
        let rest = row.strip_prefix("| `--")?;
        rest.split([' ', '`']).next()
    }

    #[test]
    fn every_serve_option_has_its_row_with_its_variable_and_file_key() {
        let cli = Cli::command();
        let serve = cli.find_subcommand("serve").expect("serve");
        let options: Vec<_> = serve
            .get_arguments()
            .filter_map(|arg| arg.get_long().map(|long| (long, arg)))
            .filter(|(long, _)| !matches!(*long, "help" | "version"))
            .collect();
        for (long, arg) in &options {
            let row = PAGE
                .lines()
                .find(|line| row_option(line) == Some(long))
                .unwrap_or_else(|| panic!("docs/configuration.md has no row for --{long}"));
            let env = arg
                .get_env()
                .and_then(|e| e.to_str())
                .expect("every option has a variable");
            assert!(
                row.contains(&format!("`{env}`")),
                "--{long}'s row names another variable: {row}"
            );
            if *long == "config" {
                continue;
            }
            let key = long.replace('-', "_");
            assert!(
                row.contains(&format!("`{key}`")),
                "--{long}'s row names another key: {row}"
            );
            // The file takes that key: a value of the wrong type is refused as such, never as
            // an unknown key.
            let refused = toml::from_str::<FileConfig>(&format!("{key} = [[]]"))
                .unwrap_err()
                .to_string();
            assert!(!refused.contains("unknown field"), "{key}: {refused}");
        }
        for row in PAGE.lines() {
            if let Some(option) = row_option(row) {
                assert!(
                    options.iter().any(|(long, _)| *long == option),
                    "docs/configuration.md documents --{option}, which coffer serve does not take"
                );
            }
        }
    }

    #[test]
    fn every_variable_read_from_the_environment_is_documented() {
        let sources = [
            include_str!("main.rs"),
            include_str!("tls.rs"),
            include_str!("server.rs"),
        ];
        for source in sources {
            for (at, _) in source.match_indices("env::var(\"COFFER_") {
                let name: String = source[at + "env::var(\"".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                    .collect();
                assert!(
                    PAGE.contains(&format!("`{name}`")),
                    "{name} is not in docs/configuration.md"
                );
            }
        }
    }
}
