//! A rotated journal file as the objects a CloudTrail trail delivers: for each account and
//! region, `{"Records":[…]}` gzipped, under
//! `AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<random>.json.gz`.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::Value;
use time::OffsetDateTime;

/// One object to deliver.
#[derive(Debug)]
pub struct LogObject {
    pub key: String,
    pub gzipped: Vec<u8>,
}

/// The objects for `owner`'s records in `text` (JSON lines), delivered at `now`. Other
/// accounts' records, and those of callers no account knows, are not the bucket owner's to
/// read: they stay in the local journal.
pub fn package(text: &str, owner: &str, now: OffsetDateTime) -> std::io::Result<Vec<LogObject>> {
    let mut groups: BTreeMap<(String, String), Vec<&str>> = BTreeMap::new();
    for line in text.lines() {
        let Ok(record) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if record["recipientAccountId"].as_str() != Some(owner) {
            continue;
        }
        let region = crate::event::region_or_default(record["awsRegion"].as_str().map(str::to_owned));
        groups.entry((owner.to_owned(), region)).or_default().push(line);
    }
    let (date, minute) = (
        format!("{:04}/{:02}/{:02}", now.year(), u8::from(now.month()), now.day()),
        format!(
            "{:04}{:02}{:02}T{:02}{:02}Z",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute()
        ),
    );
    groups
        .into_iter()
        .map(|((account, region), lines)| {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(b"{\"Records\":[")?;
            for (i, line) in lines.iter().enumerate() {
                if i > 0 {
                    encoder.write_all(b",")?;
                }
                encoder.write_all(line.as_bytes())?;
            }
            encoder.write_all(b"]}")?;
            let random: String = (0..16)
                .map(|_| char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[rand::random_range(0..36)]))
                .collect();
            Ok(LogObject {
                key: format!(
                    "AWSLogs/{account}/CloudTrail/{region}/{date}/{account}_CloudTrail_{region}_{minute}_{random}.json.gz"
                ),
                gzipped: encoder.finish()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_owners_records_are_grouped_by_region() {
        let text = [
            r#"{"eventName":"CreateUser","recipientAccountId":"111111111111","awsRegion":"us-east-1"}"#,
            r#"{"eventName":"ListBuckets","recipientAccountId":"111111111111","awsRegion":"eu-west-1"}"#,
            r#"{"eventName":"ListUsers","recipientAccountId":"111111111111","awsRegion":"us-east-1"}"#,
            r#"{"eventName":"GetCallerIdentity","awsRegion":"us-east-1"}"#,
            r#"{"eventName":"ListUsers","recipientAccountId":"222222222222","awsRegion":"us-east-1"}"#,
            r#"{"eventName":"ListUsers","recipientAccountId":"111111111111","awsRegion":"../../x?y"}"#,
            "{\"torn",
        ]
        .join("\n");
        let now = OffsetDateTime::from_unix_timestamp(1_796_558_400).unwrap();
        let objects = package(&text, "111111111111", now).unwrap();
        assert_eq!(objects.len(), 2, "{objects:?}");
        let first = &objects[0];
        assert!(
            first.key.starts_with(
                "AWSLogs/111111111111/CloudTrail/eu-west-1/2026/12/06/111111111111_CloudTrail_eu-west-1_20261206T1200Z_"
            ),
            "{}",
            first.key
        );
        assert!(first.key.ends_with(".json.gz"));
        let mut json = String::new();
        flate2::read::GzDecoder::new(&objects[1].gzipped[..])
            .read_to_string(&mut json)
            .unwrap();
        let document: Value = serde_json::from_str(&json).unwrap();
        let names: Vec<&str> = document["Records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["eventName"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["CreateUser", "ListUsers", "ListUsers"],
            "a bad region is not a key"
        );
    }
}
