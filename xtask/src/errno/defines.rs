//! A small parser for C headers made of `#define NAME VALUE /* comment */`
//! lines: the errno headers of the Linux kernel and mingw-w64's `ntstatus.h`.
//!
//! It reads what those headers contain and reports everything else as an
//! error instead of guessing: comments (also across lines), blank lines,
//! include guards (`#ifndef X` / `#define X` / `#endif`), `#include <path>`,
//! and `#define NAME VALUE` where VALUE is an integer literal, another name, or
//! a cast integer like `((NTSTATUS)0xC0000034L)`. A comment on the same line
//! as a `#define` is kept as that define's comment.

use std::fmt;

/// The value of a `#define`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `#define X` alone (an include guard).
    Empty,
    /// An integer literal: `#define ENOENT 2`.
    Number(u64),
    /// Another macro's name: `#define EWOULDBLOCK EAGAIN`.
    Name(String),
    /// A cast integer literal: `#define STATUS_PENDING ((NTSTATUS)0x00000103L)`.
    Cast {
        /// The type cast to (`NTSTATUS`).
        ty: String,
        /// The integer.
        value: u64,
    },
}

/// One `#define` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Define {
    /// The macro's name.
    pub name: String,
    /// Its value.
    pub value: Value,
    /// The text of a comment on the same line, trimmed (empty if none).
    pub comment: String,
    /// 1-based line number in its file.
    pub line: usize,
}

/// One directive of a header, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Directive {
    /// `#define`.
    Define(Define),
    /// `#include <path>` or `#include "path"`, with its line number.
    Include(String, usize),
}

/// A line the parser does not understand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Parses a whole header. Returns its directives in order, or every line it
/// could not parse.
pub fn parse(src: &str) -> Result<Vec<Directive>, Vec<ParseError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    let mut in_comment = false;
    // A directive continued with a trailing backslash: its text so far, the
    // line it started on, and the comments seen on its lines.
    let mut pending: Option<(String, usize, String)> = None;
    for (index, raw) in src.lines().enumerate() {
        let number = index + 1;
        let (code, comment) = split_comments(raw, &mut in_comment);
        let (text, start, mut comments) = match pending.take() {
            Some((mut text, start, comments)) => {
                text.push(' ');
                text.push_str(&code);
                (text, start, comments)
            }
            None => (code, number, String::new()),
        };
        if !comment.is_empty() {
            if !comments.is_empty() {
                comments.push(' ');
            }
            comments.push_str(&comment);
        }
        if let Some(head) = text.trim_end().strip_suffix('\\') {
            pending = Some((head.to_string(), start, comments));
            continue;
        }
        match directive(text.trim(), &comments, start) {
            Ok(Some(d)) => out.push(d),
            Ok(None) => {}
            Err(message) => errors.push(ParseError {
                line: start,
                message,
            }),
        }
    }
    if in_comment {
        errors.push(ParseError {
            line: src.lines().count(),
            message: "unterminated /* comment".into(),
        });
    }
    if let Some((_, start, _)) = pending {
        errors.push(ParseError {
            line: start,
            message: "backslash continuation at end of file".into(),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Splits one physical line into its code and the text of its comments
/// (`/* */`, which may start or end on other lines, and `//`). `in_comment`
/// carries an open `/*` from line to line.
fn split_comments(line: &str, in_comment: &mut bool) -> (String, String) {
    let mut code = String::new();
    let mut comment = String::new();
    let mut rest = line;
    loop {
        if *in_comment {
            match rest.find("*/") {
                Some(end) => {
                    push_words(&mut comment, &rest[..end]);
                    rest = &rest[end + 2..];
                    *in_comment = false;
                    code.push(' ');
                }
                None => {
                    push_words(&mut comment, rest);
                    break;
                }
            }
        } else {
            let block = rest.find("/*");
            let line_comment = rest.find("//");
            match (block, line_comment) {
                (Some(b), l) if l.is_none_or(|l| b < l) => {
                    code.push_str(&rest[..b]);
                    rest = &rest[b + 2..];
                    *in_comment = true;
                }
                (_, Some(l)) => {
                    code.push_str(&rest[..l]);
                    push_words(&mut comment, &rest[l + 2..]);
                    break;
                }
                (_, None) => {
                    code.push_str(rest);
                    break;
                }
            }
        }
    }
    (code, comment)
}

/// Appends `text` trimmed (and without the leading `*` of a block comment's
/// continuation lines) to `comment`, separated by a space.
fn push_words(comment: &mut String, text: &str) {
    let text = text.trim();
    let text = text.strip_prefix('*').map_or(text, str::trim);
    if text.is_empty() {
        return;
    }
    if !comment.is_empty() {
        comment.push(' ');
    }
    comment.push_str(text);
}

/// One logical line, comments removed. `Ok(None)` for lines that carry
/// nothing (blank, include guards' `#ifndef` and `#endif`).
fn directive(code: &str, comment: &str, line: usize) -> Result<Option<Directive>, String> {
    if code.is_empty() {
        return Ok(None);
    }
    let Some(rest) = code.strip_prefix('#') else {
        return Err(format!("not a preprocessor directive: {code:?}"));
    };
    let rest = rest.trim_start();
    let (keyword, args) = rest
        .split_once(|c: char| c.is_ascii_whitespace())
        .map_or((rest, ""), |(k, a)| (k, a.trim()));
    match keyword {
        "define" => define(args, comment, line).map(|d| Some(Directive::Define(d))),
        "include" => {
            let path = args
                .strip_prefix('<')
                .and_then(|p| p.strip_suffix('>'))
                .or_else(|| args.strip_prefix('"').and_then(|p| p.strip_suffix('"')))
                .ok_or_else(|| format!("cannot parse #include {args:?}"))?;
            Ok(Some(Directive::Include(path.to_string(), line)))
        }
        // Include guards and `#ifndef WIN32_NO_STATUS`-style blocks: both
        // branches of such a header define the same names, so the condition
        // is not evaluated. Any other conditional is refused.
        "ifndef" if is_identifier(args) => Ok(None),
        "endif" => Ok(None),
        _ => Err(format!("unsupported directive #{keyword} {args}")),
    }
}

/// `NAME VALUE` after `#define`.
fn define(args: &str, comment: &str, line: usize) -> Result<Define, String> {
    let (name, value) = args
        .split_once(|c: char| c.is_ascii_whitespace())
        .map_or((args, ""), |(n, v)| (n, v.trim()));
    if !is_identifier(name) {
        return Err(format!("#define of a function-like or odd macro: {args:?}"));
    }
    let value =
        parse_value(value).ok_or_else(|| format!("cannot parse the value of {name}: {value:?}"))?;
    Ok(Define {
        name: name.to_string(),
        value,
        comment: comment.to_string(),
        line,
    })
}

/// A token of a `#define` value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Number(u64),
    Open,
    Close,
}

fn tokens(text: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_ascii_whitespace() {
            chars.next();
        } else if c == '(' || c == ')' {
            out.push(if c == '(' { Token::Open } else { Token::Close });
            chars.next();
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let mut end = i;
            while let Some(&(j, d)) = chars.peek() {
                if !(d.is_ascii_alphanumeric() || d == '_') {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            let word = &text[i..end];
            out.push(if c.is_ascii_digit() {
                Token::Number(integer(word)?)
            } else {
                Token::Ident(word.to_string())
            });
        } else {
            return None;
        }
    }
    Some(out)
}

/// A C integer literal: decimal or `0x` hexadecimal, with an optional `U`/`L`
/// suffix (octal is refused rather than misread).
fn integer(word: &str) -> Option<u64> {
    let digits = word.trim_end_matches(['u', 'U', 'l', 'L']);
    if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(hex, 16).ok()
    } else if digits.len() > 1 && digits.starts_with('0') {
        None
    } else {
        digits.parse().ok()
    }
}

/// The value forms these headers use: empty, `N`, `NAME`, `(N)`,
/// `((TYPE)N)`.
fn parse_value(text: &str) -> Option<Value> {
    use Token::{Close, Ident, Number, Open};
    Some(match tokens(text)?.as_slice() {
        [] => Value::Empty,
        [Number(n)] | [Open, Number(n), Close] => Value::Number(*n),
        [Ident(name)] => Value::Name(name.clone()),
        [Open, Open, Ident(ty), Close, Number(n), Close] => Value::Cast {
            ty: ty.clone(),
            value: *n,
        },
        _ => return None,
    })
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defines(src: &str) -> Vec<Define> {
        parse(src)
            .unwrap()
            .into_iter()
            .filter_map(|d| match d {
                Directive::Define(d) => Some(d),
                Directive::Include(..) => None,
            })
            .collect()
    }

    #[test]
    fn reads_kernel_style_errno_lines() {
        let src = "/* SPDX */\n#ifndef _X_H\n#define _X_H\n\n#include <asm-generic/errno-base.h>\n\
                   #define\tEAGAIN\t\t11\t/* Try again */\n\
                   /*\n * a long\n * comment\n */\n\
                   #define\tEWOULDBLOCK\tEAGAIN\t/* Operation would block */\n\
                   #define EDQUOT\t\t1133\t/* Quota exceeded */\n#endif /* _X_H */\n";
        let all = parse(src).unwrap();
        assert_eq!(
            all[1],
            Directive::Include("asm-generic/errno-base.h".into(), 5)
        );
        let d = defines(src);
        assert_eq!(d.len(), 4);
        assert_eq!(d[0].value, Value::Empty);
        assert_eq!(d[1].name, "EAGAIN");
        assert_eq!(d[1].value, Value::Number(11));
        assert_eq!(d[1].comment, "Try again");
        assert_eq!(d[1].line, 6);
        assert_eq!(d[2].value, Value::Name("EAGAIN".into()));
        assert_eq!(d[2].line, 11);
        assert_eq!(d[3].value, Value::Number(1133));
    }

    #[test]
    fn reads_ntstatus_casts() {
        let d = defines(
            "#define STATUS_PENDING ((NTSTATUS)0x00000103L)\n\
             #define STATUS_WAIT_0 ((NTSTATUS)0x00000000)\n#define FACILITY_DEBUGGER 0x1\n",
        );
        assert_eq!(
            d[0].value,
            Value::Cast {
                ty: "NTSTATUS".into(),
                value: 0x103
            }
        );
        assert_eq!(
            d[1].value,
            Value::Cast {
                ty: "NTSTATUS".into(),
                value: 0
            }
        );
        assert_eq!(d[2].value, Value::Number(1));
    }

    #[test]
    fn joins_continuations_and_keeps_their_comments() {
        let d = defines("#define ELONG \\\n  42 /* two lines */\n#define NEXT 1\n");
        assert_eq!(d[0].value, Value::Number(42));
        assert_eq!(d[0].comment, "two lines");
        assert_eq!(d[0].line, 1);
        assert_eq!(d[1].line, 3);
    }

    #[test]
    fn reports_what_it_cannot_read() {
        let errors = parse(
            "#define A (B + 1)\n#if X > 1\n#define F(x) x\nint x;\n#define O 017\n#define G 1 /* ok */\n",
        )
        .unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![1, 2, 3, 4, 5]);
        assert!(parse("/* open\n").is_err());
    }
}
