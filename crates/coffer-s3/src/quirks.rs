//! What s3s 0.14 writes differently from S3, corrected in its answers. Each correction names
//! the operation it applies to; the front door applies them once the operation is known.

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

#[cfg(test)]
mod tests {
    use super::*;

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
