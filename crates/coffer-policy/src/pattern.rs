//! IAM's wildcard patterns (`*`: any run of characters, `?`: any one) with policy variables
//! substituted first (`${aws:username}`, `${key, 'default'}`, and the escapes `${*}`, `${?}`,
//! `${$}` for a literal `*`, `?` or `$`).
//!
//! A substituted value is literal: a `*` in a user name matches only a `*`. That is why the
//! matcher works on tokens rather than on the substituted string (and why it is not a crate
//! like `wildmatch`, which has no literal-star).

use crate::context::RequestContext;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Literal(char),
    /// `*`
    AnyRun,
    /// `?`
    AnyOne,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    tokens: Vec<Token>,
}

/// Whether `${…}` is a variable (policy version 2012-10-17) or literal text (2008-10-17).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variables {
    Substitute,
    Literal,
}

/// Where the text appears: wildcards count in resources, actions and `…Like` conditions,
/// not in `StringEquals`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wildcards {
    Match,
    Literal,
}

impl Pattern {
    /// Builds a pattern; `None` when a variable has no value in the request and no default
    /// (the text then matches nothing, as in AWS).
    pub fn new(
        text: &str,
        wildcards: Wildcards,
        variables: Variables,
        ctx: Option<&RequestContext>,
    ) -> Option<Pattern> {
        let mut tokens = Vec::with_capacity(text.len() + 16);
        tokenize(text, wildcards, variables, ctx, &mut tokens)?;
        Some(Pattern { tokens })
    }

    /// Whether `value` matches, comparing letters exactly or (`ignore_case`) without case.
    pub fn matches(&self, value: &str, ignore_case: bool) -> bool {
        let same = |a: char, b: char| {
            a == b || (ignore_case && (a.eq_ignore_ascii_case(&b) || a.to_lowercase().eq(b.to_lowercase())))
        };
        // The character at byte offset `at` of `value`, and its length.
        let char_at = |at: usize| value[at..].chars().next().map(|c| (c, c.len_utf8()));
        // Iterative matching with one backtrack point (the last `*`): linear in practice, and
        // no allocation (it runs for every statement of every policy on every request).
        let (mut t, mut v) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while let Some((c, width)) = char_at(v) {
            match self.tokens.get(t) {
                Some(Token::AnyRun) => {
                    star = Some((t, v));
                    t += 1;
                }
                Some(Token::AnyOne) => {
                    t += 1;
                    v += width;
                }
                Some(Token::Literal(expected)) if same(*expected, c) => {
                    t += 1;
                    v += width;
                }
                _ => match star {
                    Some((star_t, star_v)) => {
                        let skipped = char_at(star_v).map_or(1, |(_, w)| w);
                        t = star_t + 1;
                        v = star_v + skipped;
                        star = Some((star_t, v));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[t..].iter().all(|token| *token == Token::AnyRun)
    }

    /// Whether the text has policy variables (then it is built per request).
    pub fn has_variables(text: &str) -> bool {
        text.contains("${")
    }

    /// The pattern's text with variables already substituted (for messages and equality).
    pub fn literal_text(&self) -> String {
        self.tokens
            .iter()
            .map(|token| match token {
                Token::Literal(c) => *c,
                Token::AnyRun => '*',
                Token::AnyOne => '?',
            })
            .collect()
    }
}

/// Appends `text`'s tokens to `tokens`, substituting variables; `None` when a variable has no
/// value and no default.
fn tokenize(
    text: &str,
    wildcards: Wildcards,
    variables: Variables,
    ctx: Option<&RequestContext>,
    tokens: &mut Vec<Token>,
) -> Option<()> {
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if variables == Variables::Substitute
            && rest.starts_with("${")
            && let Some(end) = rest.find('}')
        {
            let inner = &rest[2..end];
            match inner {
                "*" => tokens.push(Token::Literal('*')),
                "?" => tokens.push(Token::Literal('?')),
                "$" => tokens.push(Token::Literal('$')),
                _ => {
                    let value = variable_value(inner, ctx)?;
                    tokens.extend(value.chars().map(Token::Literal));
                }
            }
            rest = &rest[end + 1..];
            continue;
        }
        tokens.push(match (c, wildcards) {
            ('*', Wildcards::Match) => Token::AnyRun,
            ('?', Wildcards::Match) => Token::AnyOne,
            (c, _) => Token::Literal(c),
        });
        rest = &rest[c.len_utf8()..];
    }
    Some(())
}

/// The keys of the policy variables in `text`, as written (escapes are not variables).
pub fn variable_keys(text: &str) -> impl Iterator<Item = &str> {
    text.split("${").skip(1).filter_map(|after| {
        let inner = &after[..after.find('}')?];
        let name = inner.split_once(',').map_or(inner, |(name, _)| name).trim();
        (!matches!(name, "*" | "?" | "$")).then_some(name)
    })
}

/// `name` or `name, 'default'`: the request's single value for the key, else the default.
fn variable_value<'a>(inner: &'a str, ctx: Option<&'a RequestContext>) -> Option<&'a str> {
    let (name, default) = match inner.split_once(',') {
        Some((name, default)) => {
            let default = default.trim();
            let default = default.strip_prefix('\'').and_then(|d| d.strip_suffix('\''));
            (name.trim(), default)
        }
        None => (inner.trim(), None),
    };
    ctx.and_then(|ctx| ctx.single(name)).or(default)
}

/// Whether `value` matches `text` as a wildcard pattern (variables substituted).
pub fn wildcard_match(text: &str, value: &str, ignore_case: bool, variables: Variables, ctx: &RequestContext) -> bool {
    // Patterns with variables are built for every request: reuse one buffer per thread
    // instead of allocating each time.
    thread_local! {
        static SCRATCH: std::cell::RefCell<Pattern> = const { std::cell::RefCell::new(Pattern { tokens: Vec::new() }) };
    }
    SCRATCH.with(|scratch| {
        let Ok(mut pattern) = scratch.try_borrow_mut() else {
            return Pattern::new(text, Wildcards::Match, variables, Some(ctx))
                .is_some_and(|p| p.matches(value, ignore_case));
        };
        pattern.tokens.clear();
        tokenize(text, Wildcards::Match, variables, Some(ctx), &mut pattern.tokens).is_some()
            && pattern.matches(value, ignore_case)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext::new("s3:GetObject", "*", None)
            .with("aws:username", "alice")
            .with("weird", "a*b")
    }

    fn m(pattern: &str, value: &str) -> bool {
        wildcard_match(pattern, value, false, Variables::Substitute, &ctx())
    }

    #[test]
    fn stars_and_question_marks() {
        // IAM user guide, "Wildcards": `*` any run, `?` one character.
        assert!(m("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c"));
        assert!(m("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/"));
        assert!(!m("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket"));
        assert!(m("s3:Get*", "s3:GetObject"));
        assert!(m("s3:?etObject", "s3:GetObject"));
        assert!(!m("s3:?etObject", "s3:etObject"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("*a*a*a*", "aaa"));
    }

    #[test]
    fn case_only_when_asked() {
        assert!(!m("s3:getobject", "s3:GetObject"));
        assert!(wildcard_match(
            "s3:getobject",
            "s3:GetObject",
            true,
            Variables::Substitute,
            &ctx()
        ));
        assert!(wildcard_match("ÉTÉ*", "été-2025", true, Variables::Substitute, &ctx()));
    }

    #[test]
    fn variables_are_substituted_literally() {
        // IAM user guide, "Policy variables": the home-folder example.
        assert!(m(
            "arn:aws:s3:::bucket/home/${aws:username}/*",
            "arn:aws:s3:::bucket/home/alice/x"
        ));
        assert!(!m(
            "arn:aws:s3:::bucket/home/${aws:username}/*",
            "arn:aws:s3:::bucket/home/bob/x"
        ));
        // A `*` inside a value is a literal star.
        assert!(m("x/${weird}", "x/a*b"));
        assert!(!m("x/${weird}", "x/aXb"));
        // Variable names are case-insensitive, like condition keys.
        assert!(m("${AWS:UserName}", "alice"));
    }

    #[test]
    fn defaults_and_missing_values() {
        assert!(m("${aws:PrincipalTag/team, 'none'}", "none"));
        assert!(!m("${aws:PrincipalTag/team}", ""));
        assert!(Pattern::new("${missing}", Wildcards::Match, Variables::Substitute, Some(&ctx())).is_none());
    }

    #[test]
    fn variable_keys_are_named_without_defaults_or_escapes() {
        let keys: Vec<&str> =
            variable_keys("home/${aws:UserName}/${*}/${aws:PrincipalTag/team, 'none'}/${unclosed").collect();
        assert_eq!(keys, ["aws:UserName", "aws:PrincipalTag/team"]);
    }

    #[test]
    fn escapes_give_literal_special_characters() {
        assert!(m("a${*}b", "a*b"));
        assert!(!m("a${*}b", "aXb"));
        assert!(m("a${?}", "a?"));
        assert!(m("${$}x", "$x"));
    }

    #[test]
    fn version_2008_has_no_variables() {
        assert!(wildcard_match(
            "${aws:username}",
            "${aws:username}",
            false,
            Variables::Literal,
            &ctx()
        ));
        assert!(!wildcard_match(
            "${aws:username}",
            "alice",
            false,
            Variables::Literal,
            &ctx()
        ));
    }
}
