//! A small event loop over `quick-xml` for the flat XML documents storage services speak (list
//! results, block lists, errors): names come back byte for byte (no whitespace or end-of-line
//! normalisation), and a listing page of thousands of entries is parsed without building a tree.

use quick_xml::Reader;
use quick_xml::events::{BytesRef, Event};

/// A malformed document.
#[derive(Debug, thiserror::Error)]
#[error("unexpected XML from the service: {0}")]
pub struct XmlError(pub String);

impl XmlError {
    /// An error from anything that displays.
    pub fn from_any(e: impl std::fmt::Display) -> Self {
        Self(e.to_string())
    }
}

/// Receives the events of a document. `path` is the stack of element names from the root.
pub trait Visitor {
    /// An element opened, with its attributes.
    fn open(&mut self, _path: &[String], _attrs: &[(String, String)]) {}
    /// An element's full text (entity references resolved), just before it closes.
    fn text(&mut self, _path: &[String], _text: &str) {}
    /// An element closed.
    fn close(&mut self, _path: &[String]) {}
}

/// Walks a document, feeding `visitor`.
pub fn walk(xml: &str, visitor: &mut impl Visitor) -> Result<(), XmlError> {
    let mut reader = Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    loop {
        match reader.read_event().map_err(XmlError::from_any)? {
            Event::Start(e) => {
                stack.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                let attrs: Vec<(String, String)> = e
                    .attributes()
                    .flatten()
                    .map(|a| {
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map(|v| v.into_owned())
                            .unwrap_or_default();
                        (String::from_utf8_lossy(a.key.as_ref()).into_owned(), value)
                    })
                    .collect();
                visitor.open(&stack, &attrs);
                text.clear();
            }
            Event::Empty(e) => {
                stack.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                visitor.open(&stack, &[]);
                visitor.text(&stack, "");
                visitor.close(&stack);
                stack.pop();
            }
            Event::Text(t) => text.push_str(&t.decode().map_err(XmlError::from_any)?),
            Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) => text.push_str(&resolve_reference(&r)?),
            Event::End(_) => {
                visitor.text(&stack, &text);
                text.clear();
                visitor.close(&stack);
                stack.pop();
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

fn resolve_reference(r: &BytesRef<'_>) -> Result<String, XmlError> {
    if let Some(c) = r.resolve_char_ref().map_err(XmlError::from_any)? {
        return Ok(c.to_string());
    }
    let name = r.decode().map_err(XmlError::from_any)?;
    Ok(match name.as_ref() {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        other => return Err(XmlError(format!("unknown entity `&{other};`"))),
    }
    .to_owned())
}
