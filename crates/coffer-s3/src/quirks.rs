//! Where s3s 0.14 differs from S3 and the clients people use, corrected around it: in the
//! requests it is given and the answers it writes. The front door applies each.

/// GetObjectAttributes answers its `<ETag>` without quotes (unlike every other S3 answer);
/// s3s quotes every ETag it serializes. Returns the corrected body, or `None` when nothing
/// needed correcting.
pub fn get_object_attributes_body(xml: &[u8]) -> Option<Vec<u8>> {
    const OPEN: &[u8] = b"<ETag>\"";
    const CLOSE: &[u8] = b"\"</ETag>";
    let start = xml.windows(OPEN.len()).position(|w| w == OPEN)?;
    let value_start = start + OPEN.len();
    let end = value_start + xml[value_start..].windows(CLOSE.len()).position(|w| w == CLOSE)?;
    let mut fixed = Vec::with_capacity(xml.len());
    fixed.extend_from_slice(&xml[..start]);
    fixed.extend_from_slice(b"<ETag>");
    fixed.extend_from_slice(&xml[value_start..end]);
    fixed.extend_from_slice(b"</ETag>");
    fixed.extend_from_slice(&xml[end + CLOSE.len()..]);
    Some(fixed)
}

/// A SigV2 request for a bucket itself, path style (`/bucket`), with its path as botocore
/// (boto3, AWS CLI v1) signs it: `/bucket/`, the form AWS documents for a bucket's root,
/// while s3s signs the path as it came (as rclone and aws-sdk-go sign it). The front door
/// tries the request as sent, then this way. `None` for anything else: a virtual-hosted
/// request (`virtual_hosted`; there `/name` is an object), a path with more than a bucket
/// name, a name no bucket can have.
pub fn sigv2_bucket_root(uri: &http::Uri, virtual_hosted: bool) -> Option<http::Uri> {
    if virtual_hosted {
        return None;
    }
    let path = uri.path();
    let bucket = path.strip_prefix('/')?;
    if !crate::valid_bucket_name(bucket) {
        return None;
    }
    let query = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
    format!("{path}/{query}").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_root_gets_its_slash_and_keeps_its_query() {
        let uri: http::Uri = "/photos?location".parse().unwrap();
        assert_eq!(sigv2_bucket_root(&uri, false).unwrap(), "/photos/?location");
        assert_eq!(
            sigv2_bucket_root(&uri, true),
            None,
            "an object of a virtual-hosted bucket"
        );
        for other in ["/", "/photos/", "/photos/key", "/a%2Fb"] {
            assert_eq!(sigv2_bucket_root(&other.parse().unwrap(), false), None, "{other}");
        }
    }

    #[test]
    fn the_attributes_etag_loses_its_quotes_and_nothing_else_changes() {
        let xml = br#"<GetObjectAttributesResponse><ETag>"abc-2"</ETag><ObjectSize>3</ObjectSize></GetObjectAttributesResponse>"#;
        assert_eq!(
            get_object_attributes_body(xml).unwrap(),
            br#"<GetObjectAttributesResponse><ETag>abc-2</ETag><ObjectSize>3</ObjectSize></GetObjectAttributesResponse>"#
        );
        assert_eq!(get_object_attributes_body(b"<GetObjectAttributesResponse/>"), None);
    }
}
