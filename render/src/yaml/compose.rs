//! Events to nodes, as PyYAML's composer in `CParser` does: tags resolved, anchors and
//! aliases linked, one node tree per document.

use super::error::{Mark, YamlError};
use halite_core::yaml_emit::resolver::{resolve_plain, ImplicitTag};
use libyaml_safer::{Event, EventData, Parser, ScalarStyle};
use std::collections::HashMap;
use std::rc::Rc;

/// A resolved node tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tag {
    /// One of the implicit scalar tags (also what `!!str`, `!!int`, ... spell out).
    Implicit(ImplicitTag),
    /// `tag:yaml.org,2002:binary`.
    Binary,
    /// `tag:yaml.org,2002:seq`.
    Seq,
    /// `tag:yaml.org,2002:map`.
    Map,
    /// `tag:yaml.org,2002:omap`.
    Omap,
    /// `tag:yaml.org,2002:pairs`.
    Pairs,
    /// `tag:yaml.org,2002:set`.
    Set,
    /// `tag:yaml.org,2002:python/unicode` (Salt constructs it as a string).
    PyUnicode,
    /// Any other tag, spelled in full.
    Other(String),
}

const YAML_PREFIX: &str = "tag:yaml.org,2002:";

impl Tag {
    fn from_full(tag: &str) -> Tag {
        let Some(short) = tag.strip_prefix(YAML_PREFIX) else {
            return Tag::Other(tag.to_string());
        };
        match short {
            "str" => Tag::Implicit(ImplicitTag::Str),
            "int" => Tag::Implicit(ImplicitTag::Int),
            "float" => Tag::Implicit(ImplicitTag::Float),
            "bool" => Tag::Implicit(ImplicitTag::Bool),
            "null" => Tag::Implicit(ImplicitTag::Null),
            "merge" => Tag::Implicit(ImplicitTag::Merge),
            "timestamp" => Tag::Implicit(ImplicitTag::Timestamp),
            "value" => Tag::Implicit(ImplicitTag::Value),
            "binary" => Tag::Binary,
            "seq" => Tag::Seq,
            "map" => Tag::Map,
            "omap" => Tag::Omap,
            "pairs" => Tag::Pairs,
            "set" => Tag::Set,
            "python/unicode" => Tag::PyUnicode,
            _ => Tag::Other(tag.to_string()),
        }
    }

    /// The full tag, as PyYAML prints it in messages.
    pub(crate) fn full(&self) -> String {
        let short = match self {
            Tag::Implicit(t) => match t {
                ImplicitTag::Str => "str",
                ImplicitTag::Int => "int",
                ImplicitTag::Float => "float",
                ImplicitTag::Bool => "bool",
                ImplicitTag::Null => "null",
                ImplicitTag::Merge => "merge",
                ImplicitTag::Timestamp => "timestamp",
                ImplicitTag::Value => "value",
            },
            Tag::Binary => "binary",
            Tag::Seq => "seq",
            Tag::Map => "map",
            Tag::Omap => "omap",
            Tag::Pairs => "pairs",
            Tag::Set => "set",
            Tag::PyUnicode => "python/unicode",
            Tag::Other(full) => return full.clone(),
        };
        format!("{YAML_PREFIX}{short}")
    }
}

/// A composed node.
#[derive(Debug)]
pub(crate) struct Node {
    /// The resolved tag.
    pub tag: Tag,
    /// Where the node starts.
    pub start: Mark,
    /// Scalar text, items or pairs.
    pub body: Body,
}

/// What a node holds.
#[derive(Debug)]
pub(crate) enum Body {
    /// A scalar's text.
    Scalar(String),
    /// A sequence's items.
    Seq(Vec<Rc<Node>>),
    /// A mapping's pairs in document order.
    Map(Vec<(Rc<Node>, Rc<Node>)>),
}

impl Node {
    /// PyYAML's node id: `scalar`, `sequence` or `mapping`.
    pub(crate) fn id(&self) -> &'static str {
        match self.body {
            Body::Scalar(_) => "scalar",
            Body::Seq(_) => "sequence",
            Body::Map(_) => "mapping",
        }
    }
}

/// Pulls events from libyaml-safer and builds node trees.
pub(crate) struct Composer<'a> {
    parser: Parser<&'a mut &'a [u8]>,
    anchors: HashMap<String, Rc<Node>>,
    /// Anchors whose node is still being composed (an alias to one is recursive).
    pending: HashMap<String, Mark>,
    peeked: Option<Event>,
    /// Byte length of the caller's text when a newline was appended to it (see [`needs_newline`]).
    appended_newline_at: Option<u64>,
    /// Where the caller's text ends (used with `appended_newline_at`).
    original_end: Mark,
    /// Does the caller's last line hold more than blanks (a block scalar ending there has no
    /// final line break in C libyaml)?
    last_line_has_content: bool,
}

/// Run one parser step, turning a panic inside libyaml-safer into `Err(None)`.
fn parse_guarded(parser: &mut Parser<&mut &[u8]>) -> Result<Event, Option<libyaml_safer::Error>> {
    quiet_library_panics();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.parse())) {
        Ok(Ok(ev)) => Ok(ev),
        Ok(Err(e)) => Err(Some(e)),
        Err(_) => Err(None),
    }
}

/// Keep panics raised inside libyaml-safer (caught by [`parse_guarded`]) off stderr; every
/// other panic still goes to the previous hook.
fn quiet_library_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let from_library = info
                .location()
                .is_some_and(|l| l.file().contains("libyaml-safer"));
            if !from_library {
                previous(info);
            }
        }));
    });
}

/// libyaml-safer panics when a token runs to the end of input without a line break (C libyaml
/// sees a NUL there), so such input gets a `\n` appended. C libyaml reads no break at the end
/// of a block scalar: [`Composer::compose_node`] removes the one the appended newline adds, and
/// scanner errors at the end of input get the original end mark back (see `error.rs`).
pub(crate) fn needs_newline(text: &str) -> bool {
    !text.is_empty() && !text.ends_with('\n')
}

impl<'a> Composer<'a> {
    /// A composer over `input`, positioned before STREAM-START.
    pub(crate) fn new(
        input: &'a mut &'a [u8],
        appended_newline_at: Option<u64>,
        original_end: Mark,
        last_line_has_content: bool,
    ) -> Self {
        let mut parser = Parser::new();
        parser.set_input_string(input);
        Composer {
            parser,
            anchors: HashMap::default(),
            pending: HashMap::default(),
            peeked: None,
            appended_newline_at,
            original_end,
            last_line_has_content,
        }
    }

    fn next_event(&mut self) -> Result<Event, YamlError> {
        if let Some(ev) = self.peeked.take() {
            return Ok(ev);
        }
        let eof = self.appended_newline_at.map(|len| (len, self.original_end));
        parse_guarded(&mut self.parser).map_err(|e| match e {
            Some(e) => YamlError::from_libyaml(&e, eof),
            None => YamlError::marked(None, None, "YAML parser failure", None),
        })
    }

    fn peek_event(&mut self) -> Result<&Event, YamlError> {
        if self.peeked.is_none() {
            let ev = self.next_event()?;
            self.peeked = Some(ev);
        }
        match &self.peeked {
            Some(ev) => Ok(ev),
            None => Err(YamlError::plain("internal error: no event")),
        }
    }

    /// Skip STREAM-START.
    pub(crate) fn start_stream(&mut self) -> Result<(), YamlError> {
        let ev = self.next_event()?;
        match ev.data {
            EventData::StreamStart { .. } => Ok(()),
            _ => Err(YamlError::plain("expected STREAM-START")),
        }
    }

    /// Is the next event STREAM-END? Returns its start mark when it is not.
    pub(crate) fn at_stream_end(&mut self) -> Result<Option<Mark>, YamlError> {
        let ev = self.peek_event()?;
        Ok(match ev.data {
            EventData::StreamEnd => None,
            _ => Some(Mark::from(ev.start_mark)),
        })
    }

    /// Compose the next document (DOCUMENT-START .. DOCUMENT-END). Anchors are per document.
    pub(crate) fn compose_document(&mut self) -> Result<Rc<Node>, YamlError> {
        let _start = self.next_event()?;
        let node = self.compose_node()?;
        let _end = self.next_event()?;
        self.anchors.clear();
        self.pending.clear();
        Ok(node)
    }

    fn compose_node(&mut self) -> Result<Rc<Node>, YamlError> {
        let ev = self.next_event()?;
        let start = Mark::from(ev.start_mark);
        match ev.data {
            EventData::Alias { anchor } => match self.anchors.get(&anchor) {
                Some(node) => Ok(Rc::clone(node)),
                None if self.pending.contains_key(&anchor) => Err(YamlError::marked(
                    None,
                    None,
                    "found recursive alias (not supported)",
                    Some(start),
                )),
                None => Err(YamlError::marked(
                    None,
                    None,
                    "found undefined alias",
                    Some(start),
                )),
            },
            EventData::Scalar {
                anchor,
                tag,
                mut value,
                plain_implicit,
                style,
                ..
            } => {
                if let (Some(len), true) = (self.appended_newline_at, self.last_line_has_content) {
                    if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
                        && ev.end_mark.index > len
                        && value.ends_with('\n')
                    {
                        value.pop();
                    }
                }
                self.check_anchor(anchor.as_deref(), start)?;
                let tag = match tag.as_deref() {
                    None | Some("!") => {
                        if plain_implicit {
                            Tag::Implicit(resolve_plain(&value))
                        } else {
                            Tag::Implicit(ImplicitTag::Str)
                        }
                    }
                    Some(full) => Tag::from_full(full),
                };
                let node = Rc::new(Node {
                    tag,
                    start,
                    body: Body::Scalar(value),
                });
                self.register(anchor, &node);
                Ok(node)
            }
            EventData::SequenceStart { anchor, tag, .. } => {
                self.check_anchor(anchor.as_deref(), start)?;
                let tag = collection_tag(tag.as_deref(), Tag::Seq);
                if let Some(a) = &anchor {
                    self.pending.insert(a.clone(), start);
                }
                let mut items = Vec::new();
                loop {
                    if matches!(self.peek_event()?.data, EventData::SequenceEnd) {
                        self.next_event()?;
                        break;
                    }
                    items.push(self.compose_node()?);
                }
                let node = Rc::new(Node {
                    tag,
                    start,
                    body: Body::Seq(items),
                });
                self.register(anchor, &node);
                Ok(node)
            }
            EventData::MappingStart { anchor, tag, .. } => {
                self.check_anchor(anchor.as_deref(), start)?;
                let tag = collection_tag(tag.as_deref(), Tag::Map);
                if let Some(a) = &anchor {
                    self.pending.insert(a.clone(), start);
                }
                let mut pairs = Vec::new();
                loop {
                    if matches!(self.peek_event()?.data, EventData::MappingEnd) {
                        self.next_event()?;
                        break;
                    }
                    let key = self.compose_node()?;
                    let value = self.compose_node()?;
                    pairs.push((key, value));
                }
                let node = Rc::new(Node {
                    tag,
                    start,
                    body: Body::Map(pairs),
                });
                self.register(anchor, &node);
                Ok(node)
            }
            _ => Err(YamlError::marked(
                None,
                None,
                "unexpected event while composing a node",
                Some(start),
            )),
        }
    }

    /// PyYAML's duplicate-anchor check.
    fn check_anchor(&self, anchor: Option<&str>, start: Mark) -> Result<(), YamlError> {
        let Some(anchor) = anchor else {
            return Ok(());
        };
        let first = self
            .anchors
            .get(anchor)
            .map(|n| n.start)
            .or_else(|| self.pending.get(anchor).copied());
        match first {
            Some(first) => Err(YamlError::marked(
                Some("found duplicate anchor; first occurrence"),
                Some(first),
                "second occurrence",
                Some(start),
            )),
            None => Ok(()),
        }
    }

    fn register(&mut self, anchor: Option<String>, node: &Rc<Node>) {
        if let Some(a) = anchor {
            self.pending.remove(&a);
            self.anchors.insert(a, Rc::clone(node));
        }
    }
}

fn collection_tag(tag: Option<&str>, default: Tag) -> Tag {
    match tag {
        None | Some("!") => default,
        Some(full) => Tag::from_full(full),
    }
}
