//! Where each statement of a policy document sits in its text, for the simulator's
//! `MatchedStatements`: the line and column (both from 1) of the statement's opening brace,
//! and of the character just past its closing brace. `serde_json` keeps no positions, so
//! this is a small scanner over a document that has already parsed.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// The span of every statement, in order; empty if the text is not a policy object.
pub fn statement_positions(text: &str) -> Vec<(Position, Position)> {
    let mut scanner = Scanner { text, at: 0 };
    let spans = scanner.statement_spans().unwrap_or_default();
    spans
        .into_iter()
        .map(|(start, end)| (position(text, start), position(text, end)))
        .collect()
}

fn position(text: &str, offset: usize) -> Position {
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.skip_whitespace();
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// A string's raw text (escapes left as written: keys compared here have none).
    fn string(&mut self) -> Option<&str> {
        self.expect(b'"')?;
        let start = self.at;
        loop {
            match self.peek()? {
                b'\\' => self.at += 2,
                b'"' => break,
                _ => self.at += 1,
            }
        }
        self.at += 1;
        self.text.get(start..self.at - 1)
    }

    /// Skips one value of any kind.
    fn skip_value(&mut self) -> Option<()> {
        self.skip_whitespace();
        match self.peek()? {
            b'"' => self.string().map(drop),
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.at += 1;
                self.skip_whitespace();
                if self.peek()? == close {
                    self.at += 1;
                    return Some(());
                }
                loop {
                    if open == b'{' {
                        self.string()?;
                        self.expect(b':')?;
                    }
                    self.skip_value()?;
                    self.skip_whitespace();
                    match self.peek()? {
                        b',' => self.at += 1,
                        byte if byte == close => {
                            self.at += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            _ => {
                // A number, true, false or null: up to the next delimiter.
                while !matches!(self.peek()?, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                    self.at += 1;
                }
                Some(())
            }
        }
    }

    /// Byte spans of the statements of the top-level object's `Statement`.
    fn statement_spans(&mut self) -> Option<Vec<(usize, usize)>> {
        self.expect(b'{')?;
        let mut spans = Vec::new();
        loop {
            self.skip_whitespace();
            if self.peek()? == b'}' {
                return Some(spans);
            }
            let key = self.string()?.to_owned();
            self.expect(b':')?;
            self.skip_whitespace();
            if key == "Statement" {
                spans.clear();
                if self.peek()? == b'[' {
                    self.at += 1;
                    loop {
                        self.skip_whitespace();
                        if self.peek()? == b']' {
                            self.at += 1;
                            break;
                        }
                        let start = self.at;
                        self.skip_value()?;
                        spans.push((start, self.at));
                        self.skip_whitespace();
                        if self.peek()? == b',' {
                            self.at += 1;
                        }
                    }
                } else {
                    let start = self.at;
                    self.skip_value()?;
                    spans.push((start, self.at));
                }
            } else {
                self.skip_value()?;
            }
            self.skip_whitespace();
            if self.peek()? == b',' {
                self.at += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: usize, column: usize) -> Position {
        Position { line, column }
    }

    #[test]
    fn a_single_statement_on_one_line() {
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
        let spans = statement_positions(text);
        assert_eq!(spans, [(at(1, 37), at(1, text.len()))]);
    }

    #[test]
    fn statements_of_a_formatted_document_with_nesting_and_escapes() {
        let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Sid\": \"A\", \"Effect\": \"Allow\", \"Action\": [\"s3:*\"], \"Resource\": \"arn:aws:s3:::b/\\\"}\"},\n    {\n      \"Effect\": \"Deny\",\n      \"Action\": \"*\",\n      \"Resource\": \"*\",\n      \"Condition\": {\"NumericLessThan\": {\"s3:max-keys\": 10}}\n    }\n  ]\n}";
        let spans = statement_positions(text);
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].0, at(4, 5));
        assert_eq!(spans[1], (at(5, 5), at(10, 6)));
    }

    #[test]
    fn text_that_is_no_policy_has_no_positions() {
        assert!(statement_positions("[1, 2]").is_empty());
        assert!(statement_positions("{\"Statement\": [{\"Effect\"").is_empty());
    }
}
