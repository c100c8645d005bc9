//! The one place that knows both the core's types and LSP's: byte spans ↔ ranges in the
//! negotiated position encoding, findings → diagnostics (`code` = rule id, `source` =
//! "jellycell"), core text edits → LSP text edits, paths ↔ URIs.

use tower_lsp_server::ls_types::{
    self as lsp, Diagnostic, DiagnosticSeverity, NumberOrString, PositionEncodingKind, Uri,
};

use crate::lint::{Finding, Severity, TextEdit};
use crate::text::{Document, Position, PositionEncoding, PositionRange, Span};

/// The `source` of every diagnostic the server publishes.
pub const SOURCE: &str = "jellycell";

/// UTF-8 when the client offers it (no conversion at all), else the LSP default UTF-16.
pub fn negotiate_encoding(offered: Option<&[PositionEncodingKind]>) -> PositionEncoding {
    let offers_utf8 = offered.is_some_and(|kinds| kinds.contains(&PositionEncodingKind::UTF8));
    if offers_utf8 {
        PositionEncoding::Utf8
    } else {
        PositionEncoding::Utf16
    }
}

pub fn encoding_kind(encoding: PositionEncoding) -> PositionEncodingKind {
    match encoding {
        PositionEncoding::Utf8 => PositionEncodingKind::UTF8,
        PositionEncoding::Utf16 => PositionEncodingKind::UTF16,
        PositionEncoding::Utf32 => PositionEncodingKind::UTF32,
    }
}

pub fn position_from_lsp(position: lsp::Position) -> Position {
    Position::new(position.line, position.character)
}

pub fn range_from_lsp(range: lsp::Range) -> PositionRange {
    PositionRange::new(position_from_lsp(range.start), position_from_lsp(range.end))
}

pub fn position_to_lsp(position: Position) -> lsp::Position {
    lsp::Position::new(position.line, position.character)
}

pub fn range_to_lsp(range: PositionRange) -> lsp::Range {
    lsp::Range::new(position_to_lsp(range.start), position_to_lsp(range.end))
}

/// The LSP range of a byte span of `document`.
pub fn range(document: &Document, span: Span, encoding: PositionEncoding) -> lsp::Range {
    range_to_lsp(document.span_to_range(span, encoding))
}

/// The byte offset of an LSP position in `document`.
pub fn offset(document: &Document, position: lsp::Position, encoding: PositionEncoding) -> usize {
    document.position_to_offset(position_from_lsp(position), encoding)
}

/// The byte span of an LSP range in `document`.
pub fn span(document: &Document, range: lsp::Range, encoding: PositionEncoding) -> Span {
    document.range_to_span(range_from_lsp(range), encoding)
}

pub fn severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// A finding as a diagnostic; a finding about the whole file sits at its start.
pub fn diagnostic(
    document: &Document,
    finding: &Finding,
    encoding: PositionEncoding,
) -> Diagnostic {
    let range = finding
        .span
        .map_or_else(lsp::Range::default, |span| range(document, span, encoding));
    Diagnostic {
        range,
        severity: Some(severity(finding.severity)),
        code: Some(NumberOrString::String(finding.rule.to_string())),
        source: Some(SOURCE.to_string()),
        message: finding.message.clone(),
        ..Diagnostic::default()
    }
}

pub fn text_edit(
    document: &Document,
    edit: &TextEdit,
    encoding: PositionEncoding,
) -> lsp::TextEdit {
    lsp::TextEdit {
        range: range(document, edit.span, encoding),
        new_text: edit.replacement.clone(),
    }
}

/// A location in a file given by its text (open or not).
pub fn location(
    uri: Uri,
    document: &Document,
    span: Span,
    encoding: PositionEncoding,
) -> lsp::Location {
    lsp::Location {
        uri,
        range: range(document, span, encoding),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_is_chosen_only_when_offered() {
        assert_eq!(negotiate_encoding(None), PositionEncoding::Utf16);
        assert_eq!(
            negotiate_encoding(Some(&[PositionEncodingKind::UTF16])),
            PositionEncoding::Utf16
        );
        assert_eq!(
            negotiate_encoding(Some(&[
                PositionEncodingKind::UTF16,
                PositionEncodingKind::UTF8
            ])),
            PositionEncoding::Utf8
        );
    }

    #[test]
    fn a_finding_becomes_a_diagnostic_with_rule_and_source() {
        let document = Document::new("ab\né x\n", 1);
        let finding = Finding::new("unknown-dep", Some(Span::new(6, 7)), "no");
        let diagnostic = diagnostic(&document, &finding, PositionEncoding::Utf16);
        assert_eq!(
            diagnostic.range,
            lsp::Range::new(lsp::Position::new(1, 2), lsp::Position::new(1, 3))
        );
        assert_eq!(
            diagnostic.code,
            Some(NumberOrString::String("unknown-dep".into()))
        );
        assert_eq!(diagnostic.source.as_deref(), Some("jellycell"));
    }
}
