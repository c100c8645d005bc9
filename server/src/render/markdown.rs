//! Markdown (cells and `text/markdown` outputs) to HTML with pulldown-cmark: CommonMark
//! plus tables, strikethrough, task lists and footnotes. Raw HTML in the source is
//! escaped, never passed through (a notebook is untrusted input), and link and image
//! URLs whose scheme is not allowed (`url_policy`) are emptied. Math is kept as
//! `<span class="math …">` for a client-side renderer. Headings get stable ids and are
//! returned for the outline.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, html};

use super::url_policy::{is_safe_image, is_safe_link};

/// A heading found while rendering: level (1–3), anchor id, plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    pub level: u8,
    pub id: String,
    pub text: String,
}

/// `source` as HTML. `id_prefix` keeps heading ids unique across cells.
pub fn markdown_to_html(source: &str, id_prefix: &str) -> (String, Vec<Heading>) {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_MATH;
    let mut events: Vec<Event<'_>> = Parser::new_ext(source, options)
        .map(|event| match event {
            Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) if !is_safe_link(&dest_url) => Event::Start(Tag::Link {
                link_type,
                dest_url: CowStr::from(""),
                title,
                id,
            }),
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) if !is_safe_image(&dest_url) => Event::Start(Tag::Image {
                link_type,
                dest_url: CowStr::from(""),
                title,
                id,
            }),
            other => other,
        })
        .collect();

    let mut headings = Vec::new();
    let mut index = 0;
    while index < events.len() {
        if let Event::Start(Tag::Heading { level, .. }) = &events[index] {
            let level = heading_number(*level);
            let mut text = String::new();
            let mut end = index + 1;
            while end < events.len() && !matches!(events[end], Event::End(TagEnd::Heading(_))) {
                if let Event::Text(piece) | Event::Code(piece) = &events[end] {
                    text.push_str(piece);
                }
                end += 1;
            }
            let id = format!("{id_prefix}{}", slug(&text));
            if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[index] {
                *slot = Some(CowStr::from(id.clone()));
            }
            if level <= 3 {
                headings.push(Heading { level, id, text });
            }
            index = end;
        }
        index += 1;
    }

    let mut output = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut output, events.into_iter());
    (output, headings)
}

fn heading_number(level: HeadingLevel) -> u8 {
    match level {
        HeadingLevel::H1 => 1,
        HeadingLevel::H2 => 2,
        HeadingLevel::H3 => 3,
        HeadingLevel::H4 => 4,
        HeadingLevel::H5 => 5,
        HeadingLevel::H6 => 6,
    }
}

fn slug(text: &str) -> String {
    let mut slug = String::new();
    for character in text.chars() {
        if character.is_alphanumeric() {
            slug.extend(character.to_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::markdown_to_html;

    #[test]
    fn tables_and_task_lists_render_and_raw_html_is_escaped() {
        let (html, headings) = markdown_to_html(
            "# Results\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n\n<script>x</script>\n",
            "c0-",
        );
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("type=\"checkbox\""), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
        assert_eq!(headings[0].id, "c0-results");
        assert!(html.contains("id=\"c0-results\""), "{html}");
    }

    #[test]
    fn script_links_and_images_lose_their_url_and_safe_ones_keep_it() {
        let (html, _) = markdown_to_html(
            "[a](javascript:alert(1)) <javascript:alert(2)> [b](https://x.org) \
             ![c](data:image/png;base64,AA) ![d](javascript:alert(3)) [e]: x\n\n[r][e2]\n\n[e2]: vbscript:y\n",
            "c0-",
        );
        assert!(!html.contains("href=\"javascript:"), "{html}");
        assert!(!html.contains("src=\"javascript:"), "{html}");
        assert!(!html.contains("vbscript:"), "{html}");
        assert!(html.contains("href=\"https://x.org\""), "{html}");
        assert!(html.contains("src=\"data:image/png;base64,AA\""), "{html}");
    }
}
