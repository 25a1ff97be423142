//! Strict JSON parser that keeps exact byte offsets, plus the byte-range edit primitives that
//! every JSON edit in this module is built from.
//!
//! Insertion and removal are written as exact inverses of each other:
//! - inserting child `i > 0` puts `,<sep><child>` right after child `i - 1`; removing child
//!   `i > 0` deletes from the end of child `i - 1` to the end of child `i`;
//! - inserting child `0` of a non-empty container puts `<child>,<sep>` before the old first child;
//!   removing child `0` deletes from its start to the start of the next child;
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

    /// The decoded value of this node.
    pub(crate) fn value(&self, text: &str) -> serde_json::Value {
        serde_json::from_str(&text[self.start()..self.end()]).unwrap_or(serde_json::Value::Null)
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

/// Parse a whole document (an optional UTF-8 BOM, one value, whitespace).
pub(crate) fn parse_document(file: &str, text: &str) -> Result<Node, JsonEditError> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        text,
        file,
        pos: 0,
        depth: 0,
    };
    if text.starts_with('\u{feff}') {
        parser.pos = 3;
    }
    parser.skip_ws();
    let node = parser.value()?;
    parser.skip_ws();
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
}

impl Parser<'_> {
    fn error(&self, message: &str) -> JsonEditError {
        let (line, column) = line_column(self.text, self.pos);
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

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Node, JsonEditError> {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => {
                let start = self.pos;
                self.string()?;
                Ok(Node::Scalar {
                    start,
                    end: self.pos,
                })
            }
            Some(b'-' | b'0'..=b'9') => self.number(),
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
        let mut members = Vec::new();
        self.skip_ws();
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
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string key"));
            }
            let key_start = self.pos;
            self.string()?;
            let key_end = self.pos;
            let key: String = serde_json::from_str(&self.text[key_start..key_end])
                .map_err(|_| self.error("invalid string key"))?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error("expected `:` after the key"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value()?;
            members.push(Member {
                key,
                key_start,
                key_end,
                value,
            });
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
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
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.depth -= 1;
            let close = self.pos;
            self.pos += 1;
            return Ok(Node::Array { open, close, items });
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
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

    fn string(&mut self) -> Result<(), JsonEditError> {
        self.pos += 1;
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1;
                        }
                        Some(b'u') => {
                            self.pos += 1;
                            for _ in 0..4 {
                                if !self.peek().is_some_and(|b| b.is_ascii_hexdigit()) {
                                    return Err(self.error("invalid \\u escape"));
                                }
                                self.pos += 1;
                            }
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

    fn digits(&mut self) -> usize {
        let from = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - from
    }

    fn number(&mut self) -> Result<Node, JsonEditError> {
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
            if let Some(m) = members.first()
                && colon.is_none()
            {
                *colon = Some(text[m.key_end..m.value.start()].to_owned());
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
            if let Some(extra) = child.strip_prefix(parent)
                && !extra.is_empty()
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

/// Separator whitespace used after a comma between children.
fn separator(text: &str, container: &Node) -> String {
    let spans = container.child_spans();
    if spans.len() >= 2 {
        let between = &text[spans[0].1..spans[1].0];
        let after_comma = between.find(',').map_or(between, |i| &between[i + 1..]);
        return after_comma.to_owned();
    }
    match spans.first() {
        Some((start, _)) => {
            let ws = &text[container.start() + 1..*start];
            if ws.contains('\n') {
                ws.to_owned()
            } else {
                " ".to_owned()
            }
        }
        None => " ".to_owned(),
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
    if index == 0 {
        let at = spans[0].0;
        (
            Edit {
                start: at,
                end: at,
                text: format!("{child},{sep}"),
            },
            None,
        )
    } else {
        let at = spans[index.min(spans.len()) - 1].1;
        (
            Edit {
                start: at,
                end: at,
                text: format!(",{sep}{child}"),
            },
            None,
        )
    }
}

/// Remove child `index` of `container`; when it is the only child, the inner text becomes
/// `empty_inner`.
pub(crate) fn remove_child(text: &str, container: &Node, index: usize, empty_inner: &str) -> Edit {
    let spans = container.child_spans();
    let _ = text;
    if spans.len() == 1 {
        return Edit {
            start: container.start() + 1,
            end: container.end() - 1,
            text: empty_inner.to_owned(),
        };
    }
    if index == 0 {
        Edit {
            start: spans[0].0,
            end: spans[1].0,
            text: String::new(),
        }
    } else {
        Edit {
            start: spans[index - 1].1,
            end: spans[index].1,
            text: String::new(),
        }
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
