//! Which requests name their bucket in the Host header. Path style (`host/bucket/key`) always
//! works; with a configured domain, `bucket.domain` is virtual-hosted style. Any other host
//! (an IP, `localhost`, a name the operator did not configure) is path style: s3s's own
//! `SingleDomain` would read such a host as a bucket name.

use s3s::S3Result;
use s3s::host::{S3Host, VirtualHost};

#[derive(Debug)]
pub struct CofferHost {
    /// Lowercase, without a port.
    domain: String,
}

impl CofferHost {
    pub fn new(domain: &str) -> CofferHost {
        CofferHost {
            domain: domain.trim_end_matches('.').to_ascii_lowercase(),
        }
    }

    /// The bucket a Host header names, if it is `<bucket>.<domain>[:port]`.
    pub fn bucket_of<'h>(&self, host: &'h str) -> Option<&'h str> {
        let name = match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        };
        let prefix_len = name.len().checked_sub(self.domain.len() + 1)?;
        let (bucket, rest) = name.split_at(prefix_len);
        (rest.strip_prefix('.')?.eq_ignore_ascii_case(&self.domain) && !bucket.is_empty()).then_some(bucket)
    }
}

impl S3Host for CofferHost {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match self.bucket_of(host) {
            Some(bucket) => VirtualHost::new(self.domain.as_str()).with_bucket(bucket),
            None => VirtualHost::new(host),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::CofferHost;

    #[test]
    fn only_subdomains_of_the_domain_name_buckets() {
        let host = CofferHost::new("s3.example.test");
        assert_eq!(host.bucket_of("photos.s3.example.test"), Some("photos"));
        assert_eq!(host.bucket_of("photos.s3.example.test:9000"), Some("photos"));
        assert_eq!(
            host.bucket_of("my.dotted.bucket.S3.Example.Test"),
            Some("my.dotted.bucket")
        );
        assert_eq!(host.bucket_of("s3.example.test:9000"), None);
        assert_eq!(host.bucket_of("localhost:9000"), None);
        assert_eq!(host.bucket_of("127.0.0.1:9000"), None);
        assert_eq!(host.bucket_of("evil-s3.example.test"), None);
        assert_eq!(host.bucket_of(".s3.example.test"), None);
    }
}
