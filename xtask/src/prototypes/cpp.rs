//! Just enough of the C preprocessor to read kernel sources: comment stripping,
//! line continuations, `#if`/`#ifdef` condition tracking and a small `#if`
//! expression evaluator with three-valued logic (a symbol may be unknown).

/// Removes `/* ... */` and `// ...` comments, keeping newlines (so line numbers
/// stay right) and string/char literals intact.
pub fn strip_comments(src: &str) -> String {
    let bytes = src.as_bytes();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    let mut start = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                out.push_str(&src[start..i]);
                let end = src[i + 2..].find("*/").map_or(src.len(), |e| i + 2 + e + 2);
                out.extend(src[i..end].chars().filter(|&c| c == '\n'));
                out.push(' ');
                i = end;
                start = i;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                out.push_str(&src[start..i]);
                let end = src[i..].find('\n').map_or(src.len(), |e| i + e);
                i = end;
                start = i;
            }
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q && bytes[i] != b'\n' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    out.push_str(&src[start.min(src.len())..]);
    out
}

/// Joins backslash-continued lines; the joined text replaces the first line and
/// the continuation lines become empty, so line numbers are preserved.
pub fn join_continuations(src: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut pending: Option<String> = None;
    let mut blanks = 0;
    for line in src.lines() {
        let (text, continued) = match line.trim_end().strip_suffix('\\') {
            Some(t) => (t, true),
            None => (line, false),
        };
        match pending.as_mut() {
            Some(p) => {
                p.push(' ');
                p.push_str(text);
                blanks += 1;
            }
            None => pending = Some(text.to_string()),
        }
        if !continued {
            lines.push(pending.take().unwrap_or_default());
            lines.extend(std::iter::repeat_n(String::new(), blanks));
            blanks = 0;
        }
    }
    if let Some(p) = pending {
        lines.push(p);
        lines.extend(std::iter::repeat_n(String::new(), blanks));
    }
    lines
}

/// Tracks the stack of `#if` conditions while walking a file line by line.
#[derive(Default, Debug, Clone)]
pub struct CondStack {
    /// One frame per open `#if`: the branch conditions seen so far in it.
    frames: Vec<Vec<String>>,
}

impl CondStack {
    /// Feeds one (comment-stripped, continuation-joined) line; returns true if it
    /// was a conditional directive.
    pub fn feed(&mut self, line: &str) -> bool {
        let t = line.trim_start();
        let Some(rest) = t.strip_prefix('#') else {
            return false;
        };
        let rest = rest.trim_start();
        let (word, arg) = rest
            .split_once(|c: char| c.is_whitespace())
            .map_or((rest, ""), |(w, a)| (w, a.trim()));
        match word {
            "if" => self.frames.push(vec![arg.to_string()]),
            "ifdef" => self.frames.push(vec![format!("defined({arg})")]),
            "ifndef" => self.frames.push(vec![format!("!defined({arg})")]),
            "elif" => {
                if let Some(f) = self.frames.last_mut() {
                    f.push(arg.to_string());
                }
            }
            "else" => {
                if let Some(f) = self.frames.last_mut() {
                    f.push("1".to_string());
                }
            }
            "endif" => {
                self.frames.pop();
            }
            _ => return false,
        }
        true
    }

    /// The active condition as a list of expressions that must all hold.
    pub fn conditions(&self) -> Vec<String> {
        let mut out = Vec::new();
        for frame in &self.frames {
            let (last, earlier) = frame.split_last().expect("frames are never empty");
            for e in earlier {
                out.push(format!("!({e})"));
            }
            out.push(last.clone());
        }
        out
    }
}

/// What the evaluator knows about a macro name.
pub trait Env {
    /// `Some(true)`/`Some(false)` if known to be defined or not, `None` if unknown.
    fn defined(&self, name: &str) -> Option<bool>;
    /// The macro's integer value (`None` if unknown); an undefined macro is 0.
    fn value(&self, name: &str) -> Option<i64>;
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(i64),
    Ident(String),
    Op(&'static str),
}

fn tokenize(expr: &str) -> Option<Vec<Tok>> {
    const OPS: [&str; 16] = [
        "&&", "||", "==", "!=", ">=", "<=", "<<", ">>", "!", "(", ")", "<", ">", "+", "-", "*",
    ];
    let b = expr.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    'outer: while i < b.len() {
        let c = b[i] as char;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            let s = i;
            while i < b.len() && (b[i] as char).is_ascii_alphanumeric() {
                i += 1;
            }
            let lit = expr[s..i].trim_end_matches(['u', 'U', 'l', 'L']);
            let v = if let Some(h) = lit.strip_prefix("0x").or_else(|| lit.strip_prefix("0X")) {
                i64::from_str_radix(h, 16).ok()?
            } else {
                lit.parse().ok()?
            };
            out.push(Tok::Num(v));
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let s = i;
            while i < b.len() && ((b[i] as char).is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(expr[s..i].to_string()));
            continue;
        }
        for op in OPS {
            if expr[i..].starts_with(op) {
                out.push(Tok::Op(op));
                i += op.len();
                continue 'outer;
            }
        }
        return None;
    }
    Some(out)
}

/// Evaluates a `#if` expression; `None` if it depends on something unknown
/// (or uses syntax this evaluator does not handle).
pub fn eval(expr: &str, env: &dyn Env) -> Option<bool> {
    let toks = tokenize(expr)?;
    let mut p = Parser { toks, pos: 0, env };
    let v = p.or()?;
    if p.pos != p.toks.len() {
        return None;
    }
    v.map(|v| v != 0)
}

/// Evaluates all conditions of a [`CondStack::conditions`] list: `Some(false)` if
/// any is known false, `Some(true)` if all are known true, else `None`.
pub fn eval_all(conds: &[String], env: &dyn Env) -> Option<bool> {
    let mut all = Some(true);
    for c in conds {
        match eval(c, env) {
            Some(false) => return Some(false),
            None => all = None,
            Some(true) => {}
        }
    }
    all
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    env: &'a dyn Env,
}

// Values are `Option<i64>`: `None` is "unknown". The outer `Option` is a parse error.
type V = Option<Option<i64>>;

impl Parser<'_> {
    fn peek_op(&self, op: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Op(o)) if *o == op)
    }
    fn or(&mut self) -> V {
        let mut l = self.and()?;
        while self.peek_op("||") {
            self.pos += 1;
            let r = self.and()?;
            l = match (l, r) {
                (Some(a), _) if a != 0 => Some(1),
                (_, Some(b)) if b != 0 => Some(1),
                (Some(_), Some(_)) => Some(0),
                _ => None,
            };
        }
        Some(l)
    }
    fn and(&mut self) -> V {
        let mut l = self.cmp()?;
        while self.peek_op("&&") {
            self.pos += 1;
            let r = self.cmp()?;
            l = match (l, r) {
                (Some(0), _) | (_, Some(0)) => Some(0),
                (Some(_), Some(_)) => Some(1),
                _ => None,
            };
        }
        Some(l)
    }
    fn cmp(&mut self) -> V {
        let mut l = self.add()?;
        loop {
            let op = match self.toks.get(self.pos) {
                Some(Tok::Op(o)) if ["==", "!=", "<", ">", "<=", ">="].contains(o) => *o,
                _ => return Some(l),
            };
            self.pos += 1;
            let r = self.add()?;
            l = match (l, r) {
                (Some(a), Some(b)) => Some(i64::from(match op {
                    "==" => a == b,
                    "!=" => a != b,
                    "<" => a < b,
                    ">" => a > b,
                    "<=" => a <= b,
                    _ => a >= b,
                })),
                _ => None,
            };
        }
    }
    fn add(&mut self) -> V {
        let mut l = self.unary()?;
        loop {
            let op = match self.toks.get(self.pos) {
                Some(Tok::Op(o)) if ["+", "-", "*", "<<", ">>"].contains(o) => *o,
                _ => return Some(l),
            };
            self.pos += 1;
            let r = self.unary()?;
            l = match (l, r) {
                (Some(a), Some(b)) => Some(match op {
                    "+" => a.wrapping_add(b),
                    "-" => a.wrapping_sub(b),
                    "*" => a.wrapping_mul(b),
                    "<<" => a.wrapping_shl(b as u32),
                    _ => a.wrapping_shr(b as u32),
                }),
                _ => None,
            };
        }
    }
    fn unary(&mut self) -> V {
        match self.toks.get(self.pos).cloned()? {
            Tok::Op("!") => {
                self.pos += 1;
                Some(self.unary()?.map(|v| i64::from(v == 0)))
            }
            Tok::Op("-") => {
                self.pos += 1;
                Some(self.unary()?.map(|v| -v))
            }
            Tok::Op("(") => {
                self.pos += 1;
                let v = self.or()?;
                if !self.peek_op(")") {
                    return None;
                }
                self.pos += 1;
                Some(v)
            }
            Tok::Num(n) => {
                self.pos += 1;
                Some(Some(n))
            }
            Tok::Ident(id) if id == "defined" => {
                self.pos += 1;
                let paren = self.peek_op("(");
                if paren {
                    self.pos += 1;
                }
                let Some(Tok::Ident(name)) = self.toks.get(self.pos).cloned() else {
                    return None;
                };
                self.pos += 1;
                if paren {
                    if !self.peek_op(")") {
                        return None;
                    }
                    self.pos += 1;
                }
                Some(self.env.defined(&name).map(i64::from))
            }
            Tok::Ident(id) => {
                self.pos += 1;
                if self.peek_op("(") {
                    // A function-like macro such as IS_ENABLED(CONFIG_X).
                    self.pos += 1;
                    let Some(Tok::Ident(arg)) = self.toks.get(self.pos).cloned() else {
                        return None;
                    };
                    self.pos += 1;
                    if !self.peek_op(")") {
                        return None;
                    }
                    self.pos += 1;
                    return match id.as_str() {
                        "IS_ENABLED" | "IS_BUILTIN" => Some(self.env.defined(&arg).map(i64::from)),
                        _ => Some(None),
                    };
                }
                Some(self.env.value(&id))
            }
            Tok::Op(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Map(HashMap<&'static str, i64>);
    impl Env for Map {
        fn defined(&self, name: &str) -> Option<bool> {
            if name.starts_with("CONFIG_UNKNOWN") {
                return None;
            }
            Some(self.0.contains_key(name))
        }
        fn value(&self, name: &str) -> Option<i64> {
            if name.starts_with("CONFIG_UNKNOWN") {
                return None;
            }
            Some(self.0.get(name).copied().unwrap_or(0))
        }
    }

    #[test]
    fn evaluates_kernel_style_conditions() {
        let env = Map(HashMap::from([
            ("__BITS_PER_LONG", 64),
            ("__ARCH_WANT_NEW_STAT", 1),
        ]));
        let t = |e| eval(e, &env);
        assert_eq!(
            t("defined(__ARCH_WANT_TIME32_SYSCALLS) || __BITS_PER_LONG != 32"),
            Some(true)
        );
        assert_eq!(
            t("__BITS_PER_LONG == 32 || defined(__SYSCALL_COMPAT)"),
            Some(false)
        );
        assert_eq!(
            t("defined(__ARCH_WANT_NEW_STAT) || defined(__ARCH_WANT_STAT64)"),
            Some(true)
        );
        assert_eq!(t("!defined __ARCH_WANT_NEW_STAT"), Some(false));
        assert_eq!(t("defined(CONFIG_UNKNOWN_A) && 0"), Some(false));
        assert_eq!(t("defined(CONFIG_UNKNOWN_A) || 0"), None);
        assert_eq!(t("IS_ENABLED(__ARCH_WANT_NEW_STAT)"), Some(true));
    }

    #[test]
    fn tracks_conditions_and_comments() {
        let src = "#ifdef A /* c */\nx\n#elif defined(B)\ny // z\n#else\nw\n#endif\n";
        let lines = join_continuations(&strip_comments(src));
        let mut st = CondStack::default();
        let mut seen = Vec::new();
        for l in &lines {
            if !st.feed(l) && !l.trim().is_empty() {
                seen.push((l.trim().to_string(), st.conditions()));
            }
        }
        assert_eq!(seen[0], ("x".into(), vec!["defined(A) ".trim().into()]));
        assert_eq!(
            seen[1].1,
            vec!["!(defined(A))".to_string(), "defined(B)".to_string()]
        );
        assert_eq!(seen[2].1.len(), 3);
        assert_eq!(lines.len(), 7);
    }

    #[test]
    fn joins_continuations_preserving_line_count() {
        let lines = join_continuations("a \\\nb\nc\n");
        assert_eq!(
            lines,
            vec!["a  b".to_string(), String::new(), "c".to_string()]
        );
    }
}
