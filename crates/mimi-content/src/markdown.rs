//! GFM-MIMI helpers (draft §"GFM-MIMI", digest B.9): the sender side of the
//! "No HTML" extension, mention links, and finding mentioned URIs.
//!
//! GFM-MIMI is GitHub Flavored Markdown with tables, task lists and
//! strikethrough, no autolink extension, and "No HTML": a sender replaces the
//! `<` that opens any HTML tag, comment, processing instruction, declaration
//! or CDATA section with `&lt;`. This module does that without a full
//! Markdown parser. It leaves fenced code blocks, indented code blocks and code
//! spans alone (there `&lt;` would show literally), and it leaves `<` alone
//! where it cannot open HTML (`a < b`, `<mimi://…>` autolinks). Where its
//! guess at block structure is off, the cost is cosmetic: an extra `&lt;`
//! still renders as `<`, and receivers show any HTML that slips through as
//! plain text.

use std::borrow::Cow;

use crate::error::Error;

/// Media type of GFM-MIMI Markdown, which every MIMI client must receive.
pub const MARKDOWN_MEDIA_TYPE: &str = "text/markdown;variant=GFM-MIMI";
/// Media type of plain text, which every MIMI client must receive.
pub const PLAIN_TEXT_MEDIA_TYPE: &str = "text/plain;charset=utf-8";

/// Applies the "No HTML" rule to Markdown the user wrote.
pub fn escape_html(markdown: &str) -> Cow<'_, str> {
    if !markdown.contains('<') {
        return Cow::Borrowed(markdown);
    }
    let mut out = String::with_capacity(markdown.len() + 16);
    let mut fence: Option<(u8, usize)> = None;
    let mut previous_blank = true;
    let mut in_indented_code = false;
    let mut paragraph = String::new();
    for line in markdown.split_inclusive('\n') {
        if let Some((ch, len)) = fence {
            out.push_str(line);
            if closes_fence(line, ch, len) {
                fence = None;
            }
            previous_blank = false;
            continue;
        }
        let blank = line.trim().is_empty();
        let indented = is_indented(line);
        if let Some(open) = opens_fence(line) {
            flush(&mut paragraph, &mut out);
            out.push_str(line);
            fence = Some(open);
            in_indented_code = false;
        } else if indented && (previous_blank || in_indented_code) && !blank {
            flush(&mut paragraph, &mut out);
            out.push_str(line);
            in_indented_code = true;
        } else if blank {
            flush(&mut paragraph, &mut out);
            out.push_str(line);
        } else {
            in_indented_code = false;
            paragraph.push_str(line);
        }
        previous_blank = blank;
    }
    flush(&mut paragraph, &mut out);
    Cow::Owned(out)
}

/// A Markdown link that mentions `uri` with the link text `display`, e.g.
/// `[@Alice Smith](mimi://example.com/u/alice-smith)`.
///
/// # Errors
/// [`Error::InvalidMentionUri`] if `uri` is empty or holds whitespace,
/// control characters or angle brackets.
pub fn mention_link(display: &str, uri: &str) -> Result<String, Error> {
    if uri.is_empty()
        || uri
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
    {
        return Err(Error::InvalidMentionUri);
    }
    let mut out = String::with_capacity(display.len() + uri.len() + 6);
    out.push('[');
    for c in display.chars() {
        if matches!(c, '\\' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push_str("](");
    if uri.contains(['(', ')']) {
        out.push('<');
        out.push_str(uri);
        out.push('>');
    } else {
        out.push_str(uri);
    }
    out.push(')');
    Ok(out)
}

/// The `mimi:` URIs a text links to: Markdown links `[..](mimi:…)`,
/// autolinks `<mimi:…>` and HTML `href="mimi:…"`. A link to a member's URI is
/// a mention (draft §"Mentions"), whatever its link text.
pub fn mentioned_uris(text: &str) -> Vec<&str> {
    let mut uris = Vec::new();
    for (opener, closer) in [("](", ')'), ("<", '>'), ("href=\"", '"')] {
        let mut rest = text;
        while let Some(at) = rest.find(opener) {
            let after = &rest[at + opener.len()..];
            // `](<…>)` destinations end at `>` and may hold parentheses.
            let (after, closer) = match after.strip_prefix('<') {
                Some(inner) if opener == "](" => (inner, '>'),
                _ => (after, closer),
            };
            let end = after
                .find(|c: char| c == closer || c.is_whitespace())
                .unwrap_or(after.len());
            let candidate = &after[..end];
            if candidate.starts_with("mimi:") && !uris.contains(&candidate) {
                uris.push(candidate);
            }
            rest = after;
        }
    }
    uris
}

/// Escapes a paragraph's inline text and appends it.
fn flush(paragraph: &mut String, out: &mut String) {
    if paragraph.is_empty() {
        return;
    }
    let bytes = paragraph.as_bytes();
    let mut i = 0;
    let mut copied = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'`' => {
                let run = run_length(bytes, i, b'`');
                i = match find_closing_run(bytes, i + run, run) {
                    Some(end) => end,
                    None => i + run,
                };
            }
            b'<' if opens_html(&bytes[i + 1..]) => {
                out.push_str(&paragraph[copied..i]);
                out.push_str("&lt;");
                i += 1;
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&paragraph[copied.min(paragraph.len())..]);
    paragraph.clear();
}

/// Whether the text after a `<` starts a GFM "HTML tag": an open or closing
/// tag, a comment, a processing instruction, a declaration or CDATA.
fn opens_html(after: &[u8]) -> bool {
    match after.first() {
        Some(b'!' | b'?') => true,
        Some(b'/') => after.get(1).is_some_and(u8::is_ascii_alphabetic),
        Some(c) if c.is_ascii_alphabetic() => {
            let name_len = after
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'-')
                .count();
            match after.get(name_len) {
                None => true,
                Some(c) => c.is_ascii_whitespace() || *c == b'>' || *c == b'/',
            }
        }
        _ => false,
    }
}

fn run_length(bytes: &[u8], start: usize, ch: u8) -> usize {
    bytes[start..].iter().take_while(|b| **b == ch).count()
}

/// End (exclusive) of the backtick run of exactly `len` that closes a code span.
fn find_closing_run(bytes: &[u8], mut i: usize, len: usize) -> Option<usize> {
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let run = run_length(bytes, i, b'`');
            if run == len {
                return Some(i + run);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

fn leading_spaces(line: &str) -> usize {
    line.bytes().take_while(|b| *b == b' ').count()
}

fn is_indented(line: &str) -> bool {
    line.starts_with('\t') || leading_spaces(line) >= 4
}

/// A fence opener: up to 3 spaces, then 3 or more backticks or tildes.
fn opens_fence(line: &str) -> Option<(u8, usize)> {
    let indent = leading_spaces(line);
    if indent > 3 {
        return None;
    }
    let rest = &line.as_bytes()[indent..];
    let ch = *rest.first()?;
    if ch != b'`' && ch != b'~' {
        return None;
    }
    let len = run_length(rest, 0, ch);
    // A backtick fence's info string may not contain backticks.
    let info_ok = ch == b'~' || !rest[len..].contains(&b'`');
    (len >= 3 && info_ok).then_some((ch, len))
}

fn closes_fence(line: &str, ch: u8, len: usize) -> bool {
    let indent = leading_spaces(line);
    if indent > 3 {
        return false;
    }
    let rest = &line.as_bytes()[indent..];
    let run = run_length(rest, 0, ch);
    run >= len && rest[run..].iter().all(u8::is_ascii_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_constructs_are_neutralized() {
        assert_eq!(escape_html("a <b>bold</b>"), "a &lt;b>bold&lt;/b>");
        assert_eq!(escape_html("<!-- c -->"), "&lt;!-- c -->");
        assert_eq!(escape_html("<?php x ?>"), "&lt;?php x ?>");
        assert_eq!(escape_html("<![CDATA[x]]>"), "&lt;![CDATA[x]]>");
        assert_eq!(escape_html("<img src=x/>"), "&lt;img src=x/>");
        assert_eq!(escape_html("<br/>"), "&lt;br/>");
        assert_eq!(escape_html("x <script"), "x &lt;script");
    }

    #[test]
    fn harmless_angle_brackets_stay() {
        for text in [
            "1 < 2 and 3 > 2",
            "<mimi://example.com/u/alice-smith>",
            "<https://example.com>",
            "mail <a@b.example>",
            "no html here",
            "a \\<b> escaped",
        ] {
            assert_eq!(escape_html(text), text);
        }
    }

    #[test]
    fn code_is_left_alone() {
        assert_eq!(escape_html("use `<b>` tags"), "use `<b>` tags");
        assert_eq!(escape_html("``a ` <b> ``"), "``a ` <b> ``");
        let fenced = "```html\n<b>x</b>\n```\n<i>y</i>\n";
        assert_eq!(
            escape_html(fenced),
            "```html\n<b>x</b>\n```\n&lt;i>y&lt;/i>\n"
        );
        let indented = "para\n\n    <b>code</b>\n\n<b>";
        assert_eq!(escape_html(indented), "para\n\n    <b>code</b>\n\n&lt;b>");
        // An unclosed backtick run is literal, so the tag after it is escaped.
        assert_eq!(escape_html("`<b>"), "`&lt;b>");
        // A continuation line of a paragraph is not code.
        assert_eq!(escape_html("para\n    <b>"), "para\n    &lt;b>");
    }

    #[test]
    fn mention_links() {
        assert_eq!(
            mention_link("@Alice Smith", "mimi://example.com/u/alice-smith").as_deref(),
            Ok("[@Alice Smith](mimi://example.com/u/alice-smith)")
        );
        assert_eq!(
            mention_link("a]b", "mimi://x/u/(y)").as_deref(),
            Ok("[a\\]b](<mimi://x/u/(y)>)")
        );
        assert_eq!(
            mention_link("x", "mimi://a b"),
            Err(Error::InvalidMentionUri)
        );
        assert_eq!(mention_link("x", ""), Err(Error::InvalidMentionUri));
    }

    #[test]
    fn mentioned_uris_in_markdown_and_html() {
        let md = "Kudos to [@Alice Smith](mimi://example.com/u/alice-smith) and \
                  <mimi://example.com/u/bob> and [web](https://example.com)";
        assert_eq!(
            mentioned_uris(md),
            [
                "mimi://example.com/u/alice-smith",
                "mimi://example.com/u/bob"
            ]
        );
        let html = r#"<p>Kudos to <a href="mimi://example.com/u/alice-smith">@Alice</a></p>"#;
        assert_eq!(mentioned_uris(html), ["mimi://example.com/u/alice-smith"]);
        assert_eq!(mentioned_uris("[x](<mimi://x/u/(y)>)"), ["mimi://x/u/(y)"]);
    }
}
