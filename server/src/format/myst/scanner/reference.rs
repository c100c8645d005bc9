//! The link reference definition rule of the scanner (`[label]: destination "title"`), as
//! markdown-it-py 4 reads it: it takes the lines it needs one at a time and stops at a
//! line that would end a paragraph. It matters because the lines after a definition are
//! read afresh: there `<span>` starts an HTML block and an indented line is code, where in
//! a paragraph they would be text. Entities in the destination are not decoded for the
//! unsafe-scheme check (`javascript:` etc.); only an entity-spelled scheme differs.

use super::leaf::is_md_trim;
use super::{Chain, Parent, Scanner};

/// `parseLinkTitle`'s state: the closing marker, whether the title closed (and where),
/// whether it may go on on the next line, and whether it has text.
#[derive(Debug, Clone, Copy, Default)]
struct Title {
    marker: u8,
    ok: bool,
    can_continue: bool,
    pos: usize,
    has_text: bool,
}

/// `parseLinkDestination`: the end of the destination and its text.
fn link_destination(string: &[u8], mut pos: usize, max: usize) -> Option<(usize, &[u8])> {
    let start = pos;
    if string.get(pos) == Some(&b'<') {
        pos += 1;
        while pos < max {
            match string[pos] {
                b'\n' | b'<' => return None,
                b'>' => return Some((pos + 1, &string[start + 1..pos])),
                b'\\' if pos + 1 < max => {
                    pos += 2;
                    continue;
                }
                _ => {}
            }
            pos += 1;
        }
        return None;
    }
    let mut level = 0;
    while pos < max {
        let code = string[pos];
        if code <= b' ' || code == 0x7f {
            break;
        }
        if code == b'\\' && pos + 1 < max {
            if string[pos + 1] == b' ' {
                break;
            }
            pos += 2;
            continue;
        }
        if code == b'(' {
            level += 1;
            if level > 32 {
                return None;
            }
        }
        if code == b')' {
            if level == 0 {
                break;
            }
            level -= 1;
        }
        pos += 1;
    }
    (start != pos && level == 0).then(|| (pos, &string[start..pos]))
}

/// `parseLinkTitle`, or its continuation on an appended line when `previous` is given.
fn link_title(string: &[u8], mut start: usize, max: usize, previous: Option<Title>) -> Title {
    let mut pos = start;
    let mut title = Title::default();
    if let Some(previous) = previous {
        title.marker = previous.marker;
        title.has_text = previous.has_text;
    } else {
        if pos >= max {
            return title;
        }
        let marker = string[pos];
        if !matches!(marker, b'"' | b'\'' | b'(') {
            return title;
        }
        start += 1;
        pos += 1;
        title.marker = if marker == b'(' { b')' } else { marker };
    }
    while pos < max {
        let code = string[pos];
        if code == title.marker {
            title.pos = pos + 1;
            title.has_text |= pos > start;
            title.ok = true;
            return title;
        } else if code == b'(' && title.marker == b')' {
            return Title::default();
        } else if code == b'\\' && pos + 1 < max {
            pos += 1;
        }
        pos += 1;
    }
    title.can_continue = true;
    title.has_text |= pos > start;
    title
}

/// `validateLink` after `normalizeLink`: no `javascript:`, `vbscript:`, `file:` or
/// `data:` destination but `data:image/(gif|png|jpeg|webp);`.
fn is_allowed_link(destination: &[u8]) -> bool {
    let mut unescaped = Vec::with_capacity(destination.len());
    let mut index = 0;
    while index < destination.len() {
        let byte = destination[index];
        if byte == b'\\'
            && destination
                .get(index + 1)
                .is_some_and(u8::is_ascii_punctuation)
        {
            index += 1;
        }
        unescaped.push(destination[index].to_ascii_lowercase());
        index += 1;
    }
    let text = String::from_utf8_lossy(&unescaped);
    let text = text.trim();
    let bad = ["vbscript:", "javascript:", "file:", "data:"]
        .iter()
        .any(|scheme| text.starts_with(scheme));
    !bad || ["gif", "png", "jpeg", "webp"]
        .iter()
        .any(|kind| text.starts_with(&format!("data:image/{kind};")))
}

impl Scanner<'_> {
    /// `getNextLine`: the next line's text (after its indentation, with a line feed) when
    /// it goes on the definition, i.e. it is not blank and starts no block that ends a
    /// paragraph.
    fn reference_line(&mut self, next: usize) -> Option<Vec<u8>> {
        if next >= self.line_max || self.is_empty(next) {
            return None;
        }
        let continuation = self.is_code_block(next) || self.s_count[next] < 0;
        if !continuation {
            let old_parent = self.parent;
            self.parent = Parent::Reference;
            let terminates = self.terminates(Chain::Paragraph, next, self.line_max);
            self.parent = old_parent;
            if terminates {
                return None;
            }
        }
        let mut text = self.src[self.content_start(next)..self.e_marks[next]].to_vec();
        text.push(b'\n');
        Some(text)
    }

    /// Appends the next line to `string` when it goes on the definition.
    fn take_reference_line(&mut self, string: &mut Vec<u8>, next: &mut usize) {
        if let Some(line) = self.reference_line(*next) {
            string.extend_from_slice(&line);
            *next += 1;
        }
    }

    pub(super) fn reference(&mut self, start: usize) -> bool {
        let first = self.content_start(start);
        if self.is_code_block(start) || self.byte(first) != b'[' {
            return false;
        }
        let mut string = self.src[first..self.e_marks[start]].to_vec();
        string.push(b'\n');
        let mut next = start + 1;

        let mut label_end = None;
        let mut pos = 1;
        while pos < string.len() {
            match string[pos] {
                b'[' => return false,
                b']' => {
                    label_end = Some(pos);
                    break;
                }
                b'\n' => self.take_reference_line(&mut string, &mut next),
                b'\\' => {
                    pos += 1;
                    if string.get(pos) == Some(&b'\n') {
                        self.take_reference_line(&mut string, &mut next);
                    }
                }
                _ => {}
            }
            pos += 1;
        }
        let Some(label_end) = label_end else {
            return false;
        };
        if string.get(label_end + 1) != Some(&b':') {
            return false;
        }

        pos = label_end + 2;
        while pos < string.len() {
            match string[pos] {
                b'\n' => self.take_reference_line(&mut string, &mut next),
                b' ' | b'\t' => {}
                _ => break,
            }
            pos += 1;
        }
        let Some((destination_end, destination)) = link_destination(&string, pos, string.len())
        else {
            return false;
        };
        if !is_allowed_link(destination) {
            return false;
        }
        pos = destination_end;
        let destination_line = next;
        let title_start = pos;
        while pos < string.len() {
            match string[pos] {
                b'\n' => self.take_reference_line(&mut string, &mut next),
                b' ' | b'\t' => {}
                _ => break,
            }
            pos += 1;
        }
        let mut max = string.len();
        let mut title = link_title(&string, pos, max, None);
        while title.can_continue {
            let Some(line) = self.reference_line(next) else {
                break;
            };
            string.extend_from_slice(&line);
            pos = max;
            max = string.len();
            next += 1;
            title = link_title(&string, pos, max, Some(title));
        }
        let mut has_title = false;
        if pos < max && title_start != pos && title.ok {
            has_title = title.has_text;
            pos = title.pos;
        } else {
            pos = destination_end;
            next = destination_line;
        }
        pos = skip_spaces(&string, pos, max);
        if pos < max && string[pos] != b'\n' && has_title {
            pos = skip_spaces(&string, destination_end, max);
            next = destination_line;
        }
        if pos < max && string[pos] != b'\n' {
            return false;
        }
        let label = String::from_utf8_lossy(&string[1..label_end]);
        if label.trim_matches(is_md_trim).is_empty() {
            return false;
        }
        self.line = next;
        true
    }
}

fn skip_spaces(string: &[u8], mut pos: usize, max: usize) -> usize {
    while pos < max && matches!(string[pos], b' ' | b'\t') {
        pos += 1;
    }
    pos
}
