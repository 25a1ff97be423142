//! JSON parser that keeps exact byte offsets, plus the byte-range edit primitives that every
//! JSON edit in this module is built from. `package.json` is strict JSON (npm's reader);
//! `app.json` is JSON5 as Expo reads it: comments, trailing commas, unquoted keys,
//! single-quoted strings, JSON5 numbers. In both, an object with the same key twice is refused
//! (npm and Expo keep the last one, so an edit of either could be the wrong one).
//!
//! Insertion and removal are written as exact inverses of each other:
//! - inserting child `i` before an existing child puts `<child>,<sep>` at the start of the old
//!   child `i`; removing a child that is not the last deletes from its start to the start of the
//!   next child;
//! - appending puts `,<sep><child>` right after the last child; removing the last child deletes
//!   from the end of the one before to its own end;
//! - after a JSON5 trailing comma, appending puts `<eol><indent><child>,` at the end of the
//!   comma's line (spaces and a comment on that line stay where they are), or `<sep><child>,`
//!   right after the comma when more follows on the line; removing the last child then deletes
//!   the same text, found from the comma after the child before it;
//! - inserting into an empty container replaces its inner whitespace, which the caller records so
//!   that removing the last child can put it back.

use super::JsonEditError;

/// A parsed JSON value with the byte span of every part.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    /// `{ ... }`: `open` is the offset of `{`, `close` the offset of `}`.
    Object {
        open: usize,
        close: usize,
        members: Vec<Member>,
    },
    /// `[ ... ]`.
    Array {
        open: usize,
        close: usize,
        items: Vec<Node>,
    },
    /// A string, number, `true`, `false` or `null`.
    Scalar { start: usize, end: usize },
}

/// One `"key": value` pair of an object.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) key: String,
    pub(crate) key_start: usize,
    pub(crate) key_end: usize,
    pub(crate) value: Node,
}

impl Node {
    pub(crate) fn start(&self) -> usize {
        match self {
            Node::Object { open, .. } | Node::Array { open, .. } => *open,
            Node::Scalar { start, .. } => *start,
        }
    }

    pub(crate) fn end(&self) -> usize {
        match self {
            Node::Object { close, .. } | Node::Array { close, .. } => close + 1,
            Node::Scalar { end, .. } => *end,
        }
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Object { .. } => "an object",
            Node::Array { .. } => "an array",
            Node::Scalar { .. } => "a scalar value",
        }
    }

    /// Spans `(start, end)` of the children (members from key to value end, or items).
    pub(crate) fn child_spans(&self) -> Vec<(usize, usize)> {
        match self {
            Node::Object { members, .. } => members
                .iter()
                .map(|m| (m.key_start, m.value.end()))
                .collect(),
            Node::Array { items, .. } => items.iter().map(|i| (i.start(), i.end())).collect(),
            Node::Scalar { .. } => Vec::new(),
        }
    }

    pub(crate) fn member(&self, key: &str) -> Option<(usize, &Member)> {
        match self {
            Node::Object { members, .. } => members.iter().enumerate().find(|(_, m)| m.key == key),
            _ => None,
        }
    }

    pub(crate) fn members(&self) -> &[Member] {
        match self {
            Node::Object { members, .. } => members,
            _ => &[],
        }
    }

    /// The decoded value of this node (JSON5 parts decoded too; `Infinity` and `NaN` are
    /// `null`, JSON has no such numbers).
    pub(crate) fn value(&self, text: &str) -> serde_json::Value {
        use serde_json::Value;
        let span = &text[self.start()..self.end()];
        if let Ok(value) = serde_json::from_str(span) {
            return value;
        }
        match self {
            Node::Object { members, .. } => Value::Object(
                members
                    .iter()
                    .map(|m| (m.key.clone(), m.value.value(text)))
                    .collect(),
            ),
            Node::Array { items, .. } => {
                Value::Array(items.iter().map(|i| i.value(text)).collect())
            }
            Node::Scalar { .. } => json5_scalar(span),
        }
    }

    /// Whether the node is an object or array holding only (recursively) empty containers.
    pub(crate) fn is_hollow(&self) -> bool {
        match self {
            Node::Object { members, .. } => members.iter().all(|m| m.value.is_hollow()),
            Node::Array { items, .. } => items.iter().all(Node::is_hollow),
            Node::Scalar { .. } => false,
        }
    }
}

/// Parse a whole document (an optional UTF-8 BOM, one value, whitespace): JSON5 when `file` is
/// `app.json`, strict JSON otherwise.
pub(crate) fn parse_document(file: &str, text: &str) -> Result<Node, JsonEditError> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        text,
        file,
        pos: 0,
        depth: 0,
        json5: file == super::APP_JSON,
    };
    if text.starts_with('\u{feff}') {
        parser.pos = 3;
    }
    parser.skip_ws()?;
    let node = parser.value()?;
    parser.skip_ws()?;
    if parser.pos != parser.bytes.len() {
        return Err(parser.error("unexpected text after the JSON value"));
    }
    Ok(node)
}

const MAX_DEPTH: usize = 256;

struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    file: &'a str,
    pos: usize,
    depth: usize,
    json5: bool,
}

impl Parser<'_> {
    fn error(&self, message: &str) -> JsonEditError {
        self.error_at(self.pos, message)
    }

    fn error_at(&self, pos: usize, message: &str) -> JsonEditError {
        let (line, column) = line_column(self.text, pos);
        JsonEditError::Parse {
            file: self.file.to_owned(),
            line,
            column,
            message: message.to_owned(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Skips whitespace and, in JSON5, comments and the other JSON5 white space.
    fn skip_ws(&mut self) -> Result<(), JsonEditError> {
        loop {
            match self.peek() {
                Some(b' ' | b'\t' | b'\n' | b'\r') => self.pos += 1,
                Some(b'/') if self.json5 && self.bytes.get(self.pos + 1) == Some(&b'/') => {
                    while !matches!(self.peek(), None | Some(b'\n')) {
                        self.pos += 1;
                    }
                }
                Some(b'/') if self.json5 && self.bytes.get(self.pos + 1) == Some(&b'*') => {
                    let start = self.pos;
                    match self.text[self.pos + 2..].find("*/") {
                        Some(end) => self.pos += 2 + end + 2,
                        None => return Err(self.error_at(start, "unterminated comment")),
                    }
                }
                Some(b) if self.json5 && b >= 0x80 => {
                    let c = self.text[self.pos..].chars().next().unwrap_or('a');
                    if c.is_whitespace() || c == '\u{feff}' {
                        self.pos += c.len_utf8();
                    } else {
                        return Ok(());
                    }
                }
                Some(0x0b | 0x0c) if self.json5 => self.pos += 1,
                _ => return Ok(()),
            }
        }
    }

    fn value(&mut self) -> Result<Node, JsonEditError> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(quote @ b'"') | Some(quote @ b'\'') if quote == b'"' || self.json5 => {
                let start = self.pos;
                self.string(quote)?;
                Ok(Node::Scalar {
                    start,
                    end: self.pos,
                })
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'+' | b'.' | b'I' | b'N') if self.json5 => self.number(),
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("unexpected end of file, expected a value")),
        }
    }

    fn enter(&mut self) -> Result<(), JsonEditError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("nesting is too deep"));
        }
        Ok(())
    }

    fn object(&mut self) -> Result<Node, JsonEditError> {
        self.enter()?;
        let open = self.pos;
        self.pos += 1;
        let mut members: Vec<Member> = Vec::new();
        self.skip_ws()?;
        if self.peek() == Some(b'}') {
            self.depth -= 1;
            let close = self.pos;
            self.pos += 1;
            return Ok(Node::Object {
                open,
                close,
                members,
            });
        }
        loop {
            self.skip_ws()?;
            let key_start = self.pos;
            let key = self.key()?;
            let key_end = self.pos;
            if let Some(first) = members.iter().find(|m| m.key == key) {
                let (first_line, _) = line_column(self.text, first.key_start);
                let (line, column) = line_column(self.text, key_start);
                return Err(JsonEditError::DuplicateKey {
                    file: self.file.to_owned(),
                    line,
                    column,
                    key,
                    first_line,
                });
            }
            self.skip_ws()?;
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:` after the key"));
            }
            self.pos += 1;
            self.skip_ws()?;
            let value = self.value()?;
            members.push(Member {
                key,
                key_start,
                key_end,
                value,
            });
            self.skip_ws()?;
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws()?;
                    if self.json5 && self.peek() == Some(b'}') {
                        self.depth -= 1;
                        let close = self.pos;
                        self.pos += 1;
                        return Ok(Node::Object {
                            open,
                            close,
                            members,
                        });
                    }
                }
                Some(b'}') => {
                    self.depth -= 1;
                    let close = self.pos;
                    self.pos += 1;
                    return Ok(Node::Object {
                        open,
                        close,
                        members,
                    });
                }
                _ => return Err(self.error("expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self) -> Result<Node, JsonEditError> {
        self.enter()?;
        let open = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws()?;
        if self.peek() == Some(b']') {
            self.depth -= 1;
            let close = self.pos;
            self.pos += 1;
            return Ok(Node::Array { open, close, items });
        }
        loop {
            self.skip_ws()?;
            items.push(self.value()?);
            self.skip_ws()?;
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws()?;
                    if self.json5 && self.peek() == Some(b']') {
                        self.depth -= 1;
                        let close = self.pos;
                        self.pos += 1;
                        return Ok(Node::Array { open, close, items });
                    }
                }
                Some(b']') => {
                    self.depth -= 1;
                    let close = self.pos;
                    self.pos += 1;
                    return Ok(Node::Array { open, close, items });
                }
                _ => return Err(self.error("expected `,` or `]`")),
            }
        }
    }

    /// An object key: a string, or in JSON5 also a single-quoted string or an identifier.
    fn key(&mut self) -> Result<String, JsonEditError> {
        let start = self.pos;
        match self.peek() {
            Some(quote @ (b'"' | b'\'')) if quote == b'"' || self.json5 => {
                self.string(quote)?;
                match json5_scalar(&self.text[start..self.pos]) {
                    serde_json::Value::String(key) => Ok(key),
                    _ => Err(self.error_at(start, "invalid string key")),
                }
            }
            Some(b) if self.json5 && (b.is_ascii_alphabetic() || b == b'_' || b == b'$') => {
                while self
                    .peek()
                    .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
                {
                    self.pos += 1;
                }
                Ok(self.text[start..self.pos].to_owned())
            }
            _ if self.json5 => Err(self.error("expected a key (a string or a name)")),
            _ => Err(self.error("expected a string key")),
        }
    }

    fn string(&mut self, quote: u8) -> Result<(), JsonEditError> {
        self.pos += 1;
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b) if b == quote => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') if self.json5 => {
                    // JSON5: any character may be escaped (`\'`, `\v`, `\0`, `\x41`, a line
                    // continuation); `\u` needs four hex digits.
                    self.pos += 1;
                    match self.peek() {
                        None => return Err(self.error("unterminated string")),
                        Some(b'u') => {
                            self.pos += 1;
                            self.hex_digits(4)?;
                        }
                        Some(b'x') => {
                            self.pos += 1;
                            self.hex_digits(2)?;
                        }
                        Some(_) => {
                            let c = self.text[self.pos..].chars().next().unwrap_or(' ');
                            self.pos += c.len_utf8();
                        }
                    }
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1;
                        }
                        Some(b'u') => {
                            self.pos += 1;
                            self.hex_digits(4)?;
                        }
                        _ => return Err(self.error("invalid escape in string")),
                    }
                }
                Some(b) if b < 0x20 => {
                    return Err(self.error("control character in string (escape it)"));
                }
                Some(_) => self.pos += 1,
            }
        }
    }

    fn hex_digits(&mut self, count: usize) -> Result<(), JsonEditError> {
        for _ in 0..count {
            if !self.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
                return Err(self.error("invalid escape: hex digits expected"));
            }
            self.pos += 1;
        }
        Ok(())
    }

    fn digits(&mut self) -> usize {
        let from = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - from
    }

    fn number(&mut self) -> Result<Node, JsonEditError> {
        if self.json5 {
            return self.json5_number();
        }
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error("invalid number: digits expected after `.`"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number: digits expected in the exponent"));
            }
        }
        Ok(Node::Scalar {
            start,
            end: self.pos,
        })
    }

    /// A JSON5 number: a sign, hex (`0x1F`), `.5`, `5.`, `Infinity`, `NaN`, or a JSON number.
    fn json5_number(&mut self) -> Result<Node, JsonEditError> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'+' | b'-')) {
            self.pos += 1;
        }
        for word in ["Infinity", "NaN"] {
            if self.bytes[self.pos..].starts_with(word.as_bytes()) {
                self.pos += word.len();
                return Ok(Node::Scalar {
                    start,
                    end: self.pos,
                });
            }
        }
        if self.peek() == Some(b'0') && matches!(self.bytes.get(self.pos + 1), Some(b'x' | b'X')) {
            self.pos += 2;
            let from = self.pos;
            while self.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
                self.pos += 1;
            }
            if self.pos == from {
                return Err(self.error("invalid number: hex digits expected after `0x`"));
            }
            return Ok(Node::Scalar {
                start,
                end: self.pos,
            });
        }
        let whole = self.digits();
        let mut fraction = 0;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            fraction = self.digits();
        }
        if whole == 0 && fraction == 0 {
            return Err(self.error("invalid number"));
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number: digits expected in the exponent"));
            }
        }
        Ok(Node::Scalar {
            start,
            end: self.pos,
        })
    }

    fn literal(&mut self, word: &str) -> Result<Node, JsonEditError> {
        let start = self.pos;
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(Node::Scalar {
                start,
                end: self.pos,
            })
        } else {
            Err(self.error("expected a value"))
        }
    }
}

/// The value of a JSON5 scalar's text (a string in either quotes, a JSON5 number, a literal);
/// `null` for `Infinity`, `NaN` and anything else JSON cannot hold.
fn json5_scalar(text: &str) -> serde_json::Value {
    use serde_json::Value;
    if let Ok(value) = serde_json::from_str(text) {
        return value;
    }
    if let Some(body) = text
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .or_else(|| text.strip_prefix('"').and_then(|t| t.strip_suffix('"')))
    {
        return unescape_json5(body).map_or(Value::Null, Value::String);
    }
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if let Some(hex) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        return i64::from_str_radix(hex, 16)
            .ok()
            .map_or(Value::Null, |n| Value::from(if negative { -n } else { n }));
    }
    let mut normal = String::from(if negative { "-" } else { "" });
    if digits.starts_with('.') {
        normal.push('0');
    }
    normal.push_str(&digits.replace(".e", ".0e").replace(".E", ".0E"));
    if normal.ends_with('.') {
        normal.push('0');
    }
    serde_json::from_str(&normal).unwrap_or(Value::Null)
}

/// The text of a JSON5 string body (between the quotes), escapes resolved.
fn unescape_json5(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let hex = |chars: &mut std::str::Chars<'_>, n: usize| -> Option<u32> {
            let digits: String = chars.by_ref().take(n).collect();
            (digits.len() == n).then(|| u32::from_str_radix(&digits, 16).ok())?
        };
        match chars.next()? {
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '0' => out.push('\0'),
            '\n' | '\u{2028}' | '\u{2029}' => {}
            '\r' => {
                let rest = chars.as_str();
                if rest.starts_with('\n') {
                    chars.next();
                }
            }
            'x' => out.push(char::from_u32(hex(&mut chars, 2)?)?),
            'u' => {
                let high = hex(&mut chars, 4)?;
                if (0xD800..0xDC00).contains(&high) {
                    let rest = chars.as_str();
                    let low = rest
                        .strip_prefix("\\u")
                        .and_then(|r| u32::from_str_radix(r.get(..4)?, 16).ok())
                        .filter(|l| (0xDC00..0xE000).contains(l))?;
                    chars = rest[6..].chars();
                    out.push(char::from_u32(
                        0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00),
                    )?);
                } else {
                    out.push(char::from_u32(high)?);
                }
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// 1-based line and column (in characters) of a byte offset.
pub(crate) fn line_column(text: &str, pos: usize) -> (usize, usize) {
    let pos = pos.min(text.len());
    let before = text.get(..pos).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// One replacement of a byte range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) text: String,
}

impl Edit {
    pub(crate) fn apply(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len() + self.text.len());
        out.push_str(&text[..self.start]);
        out.push_str(&self.text);
        out.push_str(&text[self.end..]);
        out
    }
}

/// How the document is formatted: line ending, indent unit, the text between key and value.
#[derive(Debug, Clone)]
pub(crate) struct Style {
    pub(crate) eol: &'static str,
    pub(crate) unit: String,
    pub(crate) colon: String,
}

impl Style {
    pub(crate) fn detect(text: &str, root: &Node) -> Style {
        let eol = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let mut unit = None;
        let mut colon = None;
        detect_in(text, root, &mut unit, &mut colon);
        Style {
            eol,
            unit: unit.unwrap_or_else(|| "  ".to_owned()),
            colon: colon.unwrap_or_else(|| ": ".to_owned()),
        }
    }
}

fn detect_in(text: &str, node: &Node, unit: &mut Option<String>, colon: &mut Option<String>) {
    if unit.is_some() && colon.is_some() {
        return;
    }
    let (open, first) = match node {
        Node::Object { open, members, .. } => {
            let blank = |s: &str| s.bytes().all(|b| b == b' ' || b == b'\t');
            if let Some(m) = members.first()
                && colon.is_none()
                && let between = &text[m.key_end..m.value.start()]
                && between
                    .split_once(':')
                    .is_some_and(|(before, after)| blank(before) && blank(after))
            {
                *colon = Some(between.to_owned());
            }
            (*open, members.first().map(|m| m.key_start))
        }
        Node::Array { open, items, .. } => (*open, items.first().map(Node::start)),
        Node::Scalar { .. } => return,
    };
    if unit.is_none()
        && let Some(first) = first
    {
        let ws = &text[open + 1..first];
        if let Some(nl) = ws.rfind('\n') {
            let child = &ws[nl + 1..];
            let parent = line_indent(text, open);
            // Only blanks: a comment before the first child is no indent.
            if let Some(extra) = child.strip_prefix(parent)
                && !extra.is_empty()
                && extra.bytes().all(|b| b == b' ' || b == b'\t')
            {
                *unit = Some(extra.to_owned());
            }
        }
    }
    match node {
        Node::Object { members, .. } => {
            for m in members {
                detect_in(text, &m.value, unit, colon);
            }
        }
        Node::Array { items, .. } => {
            for i in items {
                detect_in(text, i, unit, colon);
            }
        }
        Node::Scalar { .. } => {}
    }
}

/// The leading spaces and tabs of the line holding `pos`.
pub(crate) fn line_indent(text: &str, pos: usize) -> &str {
    let line_start = text[..pos].rfind('\n').map_or(0, |i| i + 1);
    let rest = &text[line_start..];
    let len = rest
        .bytes()
        .take_while(|b| *b == b' ' || *b == b'\t')
        .count();
    &rest[..len]
}

/// Indent for a child line of `container`.
pub(crate) fn child_indent(text: &str, container: &Node, style: &Style) -> String {
    let spans = container.child_spans();
    match spans.first() {
        Some((start, _)) if text[container.start() + 1..*start].contains('\n') => {
            line_indent(text, *start).to_owned()
        }
        _ => format!("{}{}", line_indent(text, container.start()), style.unit),
    }
}

/// Render a value as JSON text in the document's style; object keys sorted (canonical).
pub(crate) fn render(value: &serde_json::Value, indent: &str, style: &Style) -> String {
    use serde_json::Value;
    match value {
        Value::Object(map) if !map.is_empty() => {
            let inner = format!("{indent}{}", style.unit);
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{inner}{}{}{}",
                        quote(k),
                        style.colon,
                        render(&map[k], &inner, style)
                    )
                })
                .collect();
            format!(
                "{{{eol}{}{eol}{indent}}}",
                parts.join(&format!(",{}", style.eol)),
                eol = style.eol
            )
        }
        Value::Array(items) if !items.is_empty() => {
            let inner = format!("{indent}{}", style.unit);
            let parts: Vec<String> = items
                .iter()
                .map(|v| format!("{inner}{}", render(v, &inner, style)))
                .collect();
            format!(
                "[{eol}{}{eol}{indent}]",
                parts.join(&format!(",{}", style.eol)),
                eol = style.eol
            )
        }
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// A JSON string literal.
pub(crate) fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// Position among `keys` at which `new` goes: at its sorted place within the longest ascending
/// run at the end of the list (never before index `lo`). When the whole list is sorted this is
/// the sorted position; otherwise new keys gather, sorted, after the user's own order. The result
/// depends only on the set of inserted keys, not on the order in which they came.
pub(crate) fn canonical_position(keys: &[&str], lo: usize, new: &str) -> usize {
    let n = keys.len();
    if n <= lo {
        return n;
    }
    let mut s = n - 1;
    while s > lo && keys[s - 1] <= keys[s] {
        s -= 1;
    }
    s + keys[s..].iter().filter(|k| **k < new).count()
}

/// Separator whitespace used after a comma between children: the text between the first two
/// children after their comma (or before the only child), without the user's comments (then
/// the line break and the next child's indent).
fn separator(text: &str, container: &Node) -> String {
    let spans = container.child_spans();
    let (raw, next) = match spans.as_slice() {
        [first, second, ..] => {
            let from = comma_after(text, first.1).map_or(first.1, |c| c + 1);
            (&text[from..second.0], second.0)
        }
        [only] => {
            let ws = &text[container.start() + 1..only.0];
            if !ws.contains('\n') {
                return " ".to_owned();
            }
            (ws, only.0)
        }
        [] => return " ".to_owned(),
    };
    if !raw.contains("//") && !raw.contains("/*") {
        return raw.to_owned();
    }
    match raw.rfind('\n') {
        Some(nl) => {
            let eol = if raw[..nl].ends_with('\r') {
                "\r\n"
            } else {
                "\n"
            };
            format!("{eol}{}", line_indent(text, next))
        }
        None => " ".to_owned(),
    }
}

/// The offset after `pos` once whitespace and comments are skipped.
fn skip_trivia(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    loop {
        match bytes.get(pos) {
            Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) => pos += 1,
            // JSON5's other white space (U+FEFF, U+00A0, U+2028, ...), as `Parser::skip_ws`.
            Some(b) if *b >= 0x80 => match text[pos..].chars().next() {
                Some(c) if c.is_whitespace() || c == '\u{feff}' => pos += c.len_utf8(),
                _ => return pos,
            },
            Some(b'/') if bytes.get(pos + 1) == Some(&b'/') => {
                pos = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
            }
            Some(b'/') if bytes.get(pos + 1) == Some(&b'*') => {
                pos = text[pos + 2..]
                    .find("*/")
                    .map_or(text.len(), |i| pos + 2 + i + 2);
            }
            _ => return pos,
        }
    }
}

/// The offset of the comma after the child ending at `end`, if one follows (before the next
/// child, or as a JSON5 trailing comma before the closing bracket).
fn comma_after(text: &str, end: usize) -> Option<usize> {
    let at = skip_trivia(text, end);
    (text.as_bytes().get(at) == Some(&b',')).then_some(at)
}

/// Where a child appended after a trailing comma goes: the line break ending the comma's line
/// when only spaces and comments follow the comma on that line (the user's comment stays on
/// its line), else right after the comma.
fn after_trailing_comma(text: &str, comma: usize) -> (usize, bool) {
    let bytes = text.as_bytes();
    let mut pos = comma + 1;
    loop {
        match bytes.get(pos) {
            Some(b' ' | b'\t') => pos += 1,
            Some(b'\r' | b'\n') => return (pos, true),
            Some(b'/') if bytes.get(pos + 1) == Some(&b'/') => match text[pos..].find('\n') {
                Some(i) if text[..pos + i].ends_with('\r') => return (pos + i - 1, true),
                Some(i) => return (pos + i, true),
                None => return (comma + 1, false),
            },
            Some(b'/') if bytes.get(pos + 1) == Some(&b'*') => match text[pos + 2..].find("*/") {
                Some(i) if !text[pos..pos + 2 + i].contains('\n') => pos += 2 + i + 2,
                _ => return (comma + 1, false),
            },
            _ => return (comma + 1, false),
        }
    }
}

/// Insert `child` (already rendered) as child `index` of `container`. Returns the edit and, when
/// the container was empty, the inner text it replaced.
pub(crate) fn insert_child(
    text: &str,
    container: &Node,
    index: usize,
    child: &str,
    style: &Style,
) -> (Edit, Option<String>) {
    let spans = container.child_spans();
    let open = container.start();
    let close = container.end() - 1;
    if spans.is_empty() {
        let inner = text[open + 1..close].to_owned();
        let indent = line_indent(text, open);
        let edit = Edit {
            start: open + 1,
            end: close,
            text: format!(
                "{eol}{indent}{unit}{child}{eol}{indent}",
                eol = style.eol,
                unit = style.unit
            ),
        };
        return (edit, Some(inner));
    }
    let sep = separator(text, container);
    if index < spans.len() {
        let at = spans[index].0;
        return (
            Edit {
                start: at,
                end: at,
                text: format!("{child},{sep}"),
            },
            None,
        );
    }
    let last = spans[spans.len() - 1];
    if let Some(comma) = comma_after(text, last.1) {
        // JSON5 trailing comma: the new child keeps the style (`child,`) and goes after it.
        let (at, own_line) = after_trailing_comma(text, comma);
        let text = if own_line {
            format!("{}{}{child},", style.eol, line_indent(text, last.0))
        } else {
            format!("{sep}{child},")
        };
        return (
            Edit {
                start: at,
                end: at,
                text,
            },
            None,
        );
    }
    (
        Edit {
            start: last.1,
            end: last.1,
            text: format!(",{sep}{child}"),
        },
        None,
    )
}

/// Remove child `index` of `container` (the exact inverse of [`insert_child`]); when it is the
/// only child, the inner text becomes `empty_inner`.
pub(crate) fn remove_child(text: &str, container: &Node, index: usize, empty_inner: &str) -> Edit {
    let spans = container.child_spans();
    if spans.len() == 1 {
        return Edit {
            start: container.start() + 1,
            end: container.end() - 1,
            text: empty_inner.to_owned(),
        };
    }
    if index + 1 < spans.len() {
        return Edit {
            start: spans[index].0,
            end: spans[index + 1].0,
            text: String::new(),
        };
    }
    let previous = spans[index - 1];
    if let Some(comma) = comma_after(text, spans[index].1)
        && let Some(previous_comma) = comma_after(text, previous.1)
    {
        // The insert put the child on a line of its own (before the line break that ends the
        // previous comma's line) only if that line break follows the child's comma now; else
        // the child and its separator went right after the previous comma.
        let (own_line_start, own_line) = after_trailing_comma(text, previous_comma);
        let line_break_follows = matches!(text.as_bytes().get(comma + 1), Some(b'\r' | b'\n'));
        let start = if own_line && line_break_follows {
            own_line_start
        } else {
            previous_comma + 1
        };
        return Edit {
            start,
            end: comma + 1,
            text: String::new(),
        };
    }
    Edit {
        start: previous.1,
        end: spans[index].1,
        text: String::new(),
    }
}

/// Follow object keys from `node`.
pub(crate) fn lookup<'n>(node: &'n Node, path: &[String]) -> Option<&'n Node> {
    let mut current = node;
    for key in path {
        current = &current.member(key)?.1.value;
    }
    Some(current)
}
