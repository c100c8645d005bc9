//! JSON written by hand for the shapes that answers repeat by the hundred thousand:
//! numbers, ranges and document symbols. serde_json spends ~1,300 instructions on one
//! `Range` (each key goes through its string escaper) and ~4,000 on a `DocumentSymbol`;
//! these write the same JSON from the same types, with strings still escaped by
//! serde_json.

use tower_lsp_server::ls_types::{DocumentSymbol, Position, Range};

/// Writes a non-negative integer.
pub fn number(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// `{"line":…,"character":…}`
pub fn position(out: &mut Vec<u8>, position: Position) {
    out.extend_from_slice(br#"{"line":"#);
    number(out, position.line.into());
    out.extend_from_slice(br#","character":"#);
    number(out, position.character.into());
    out.push(b'}');
}

/// `{"start":…,"end":…}`
pub fn range(out: &mut Vec<u8>, range: Range) {
    out.extend_from_slice(br#"{"start":"#);
    position(out, range.start);
    out.extend_from_slice(br#","end":"#);
    position(out, range.end);
    out.push(b'}');
}

/// About what one symbol of a notebook's outline takes, written (215 bytes on average
/// at 2,000 cells): the answer is reserved at once, not grown by doubling and copying.
const SYMBOL_BYTES: usize = 224;

/// A JSON array of symbols with their children, as serde would write it.
pub fn symbols(out: &mut Vec<u8>, symbols: &[DocumentSymbol]) -> serde_json::Result<()> {
    out.reserve(count(symbols).saturating_mul(SYMBOL_BYTES));
    symbol_array(out, symbols)
}

/// How many symbols there are in `symbols`, their children's included.
fn count(symbols: &[DocumentSymbol]) -> usize {
    symbols
        .iter()
        .map(|symbol| 1 + symbol.children.as_deref().map_or(0, count))
        .sum()
}

fn symbol_array(out: &mut Vec<u8>, symbols: &[DocumentSymbol]) -> serde_json::Result<()> {
    out.push(b'[');
    for (index, symbol) in symbols.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        #[allow(deprecated)]
        if symbol.tags.is_some() || symbol.deprecated.is_some() {
            // Never set by this server; serde knows their shape.
            serde_json::to_writer(&mut *out, symbol)?;
            continue;
        }
        out.extend_from_slice(br#"{"name":"#);
        serde_json::to_writer(&mut *out, &symbol.name)?;
        if let Some(detail) = &symbol.detail {
            out.extend_from_slice(br#","detail":"#);
            serde_json::to_writer(&mut *out, detail)?;
        }
        out.extend_from_slice(br#","kind":"#);
        serde_json::to_writer(&mut *out, &symbol.kind)?;
        out.extend_from_slice(br#","range":"#);
        range(out, symbol.range);
        out.extend_from_slice(br#","selectionRange":"#);
        range(out, symbol.selection_range);
        if let Some(children) = &symbol.children {
            out.extend_from_slice(br#","children":"#);
            symbol_array(out, children)?;
        }
        out.push(b'}');
    }
    out.push(b']');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use tower_lsp_server::ls_types::{SymbolKind, SymbolTag};

    fn parsed(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).expect("valid JSON")
    }

    #[test]
    fn numbers_and_ranges_are_what_serde_writes() {
        for value in [0, 7, 10, 99, 4_294_967_295, u64::MAX] {
            let mut out = Vec::new();
            number(&mut out, value);
            assert_eq!(out, value.to_string().as_bytes());
        }
        let sample = Range::new(Position::new(12, 0), Position::new(99_999, 4));
        let mut out = Vec::new();
        range(&mut out, sample);
        assert_eq!(out, serde_json::to_vec(&sample).expect("serde"));
    }

    #[allow(deprecated)]
    fn symbol(
        name: &str,
        detail: Option<&str>,
        children: Option<Vec<DocumentSymbol>>,
    ) -> DocumentSymbol {
        DocumentSymbol {
            name: name.to_string(),
            detail: detail.map(str::to_string),
            kind: SymbolKind::FUNCTION,
            tags: None,
            deprecated: None,
            range: Range::new(Position::new(1, 2), Position::new(3, 4)),
            selection_range: Range::new(Position::new(1, 2), Position::new(1, 9)),
            children,
        }
    }

    #[test]
    fn symbols_are_what_serde_writes() {
        let mut tagged = symbol("tagged", None, None);
        tagged.tags = Some(vec![SymbolTag::DEPRECATED]);
        let tree = vec![
            symbol(
                "## \"Quoted\" \\ heading\n",
                None,
                Some(vec![
                    symbol("load_data", Some("jc.step · Ünïcode"), None),
                    tagged,
                ]),
            ),
            symbol("c1", Some("jc.step"), Some(Vec::new())),
        ];
        let mut out = Vec::new();
        symbols(&mut out, &tree).expect("written");
        assert_eq!(
            parsed(&out),
            serde_json::to_value(&tree).expect("serde"),
            "{}",
            String::from_utf8_lossy(&out)
        );
    }
}
