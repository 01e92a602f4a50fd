//! Several statements sent to SQLite as one command. Each command is a trip to sqlx's worker
//! thread and back, two thread wake-ups that cost ~40 µs on a busy two-core machine, where
//! SQLite's own work on a small statement is a few µs; so a batch of writes that can read
//! (or write) all at once does it in one command instead of one each. SQLite only:
//! PostgreSQL prepares one statement per query with parameters.

use futures::TryStreamExt;
use sqlx::Either;

use crate::versions::Query;
use crate::{Result, StoreError};

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// Statements written with their own parameters `$1`, `$2`, …, joined into one command whose
/// parameters are numbered on from statement to statement (sqlx's SQLite driver binds a
/// `$N` to the command's N-th argument, whichever statement it is in). Bind each
/// statement's arguments in the order the statements were pushed.
#[derive(Debug, Default)]
pub(crate) struct Joined {
    sql: String,
    params: usize,
}

impl Joined {
    /// Appends `statements` (one or several, `;`-separated), numbering its parameters after
    /// those already pushed.
    pub(crate) fn push(&mut self, statements: &str) {
        if !self.sql.is_empty() {
            self.sql.push_str("; ");
        }
        let (renumbered, highest) = renumber(statements, self.params);
        self.sql.push_str(&renumbered);
        self.params += highest;
    }
}

/// `sql` with each parameter `$N` made `$(N + offset)`, and the highest N it had. The
/// statements given here are our own and hold no `$` in a literal.
fn renumber(sql: &str, offset: usize) -> (String, usize) {
    let mut out = String::with_capacity(sql.len() + sql.len() / 8);
    let mut highest = 0;
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => {
                highest = highest.max(n);
                out.push_str(&(n + offset).to_string());
            }
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    (out, highest)
}

/// What one statement of a joined command gave.
pub(crate) struct Step {
    pub rows: Vec<sqlx::any::AnyRow>,
    /// The rows an INSERT, UPDATE or DELETE changed (meaningless for a SELECT).
    pub changes: u64,
}

/// Runs a joined command with the arguments `bind` adds (in the order its statements were
/// pushed), one `Step` for each of its statements. At the first failing statement it stops
/// and fails, what the earlier ones did standing in the transaction. Arguments fewer than its
/// parameters fail it before it runs: sqlx's SQLite driver would bind NULL for the missing.
pub(crate) async fn run<'q>(
    tx: &mut Tx<'_>,
    joined: Joined,
    bind: impl FnOnce(Query<'q>) -> Query<'q>,
) -> Result<Vec<Step>> {
    let mut query = bind(sqlx::query(sqlx::AssertSqlSafe(joined.sql.clone())));
    let arguments = sqlx::Execute::take_arguments(&mut query)
        .map_err(sqlx::Error::Encode)?
        .unwrap_or_default();
    if sqlx::Arguments::len(&arguments) != joined.params {
        return Err(StoreError::Corrupt(
            "a joined command was given another number of arguments",
        ));
    }
    let query = sqlx::query_with(sqlx::AssertSqlSafe(joined.sql), arguments);
    let mut steps = Vec::new();
    let mut rows = Vec::new();
    let mut results = sqlx::Executor::fetch_many(&mut **tx, query);
    while let Some(result) = results.try_next().await? {
        match result {
            Either::Right(row) => rows.push(row),
            Either::Left(done) => steps.push(Step {
                rows: std::mem::take(&mut rows),
                changes: done.rows_affected(),
            }),
        }
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_on_from_statement_to_statement() {
        let mut joined = Joined::default();
        joined.push("SELECT $1, $2 WHERE x = $1");
        joined.push("UPDATE t SET a = $3 WHERE b = $1; DELETE FROM u WHERE c = $2");
        joined.push("SELECT 'null', $10");
        assert_eq!(
            joined.sql,
            "SELECT $1, $2 WHERE x = $1; UPDATE t SET a = $5 WHERE b = $3; DELETE FROM u WHERE c = $4; \
             SELECT 'null', $15"
        );
    }

    #[test]
    fn a_statement_without_parameters_shifts_nothing() {
        let mut joined = Joined::default();
        joined.push("SELECT 1");
        joined.push("SELECT $1");
        assert_eq!(joined.sql, "SELECT 1; SELECT $1");
    }
}
