//! A small HTML writer whose only way to add text is to escape it.
//!
//! Markup comes from `&'static str` (written in this crate's source); everything else — titles,
//! petition text, labels from a schema, translated words, numbers — goes through
//! [`Html::text`] or an attribute value, both escaped. There is no way to add a runtime string
//! unescaped, so text from a file cannot open a tag.

use std::borrow::Cow;

/// `text` with the five HTML-significant characters replaced by character references
/// (`&`, `<`, `>`, `"`, `'`), safe both between tags and inside a quoted attribute value.
/// NUL, which HTML parsers replace or drop, becomes U+FFFD.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text
        .bytes()
        .any(|b| matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | 0))
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// An HTML document being written.
#[derive(Debug, Default)]
pub struct Html {
    out: String,
}

impl Html {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends markup written in this crate's source.
    pub fn raw(&mut self, markup: &'static str) -> &mut Self {
        self.out.push_str(markup);
        self
    }

    /// Appends `text`, escaped.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.out.push_str(&escape(text));
        self
    }

    /// Appends a whole number.
    pub fn num(&mut self, n: u64) -> &mut Self {
        self.out.push_str(&n.to_string());
        self
    }

    /// Opens `tag` with `attributes`, each value escaped: `<tag a="v" ...>`.
    pub fn open(&mut self, tag: &'static str, attributes: &[(&'static str, &str)]) -> &mut Self {
        self.out.push('<');
        self.out.push_str(tag);
        for (name, value) in attributes {
            self.out.push(' ');
            self.out.push_str(name);
            self.out.push_str("=\"");
            self.out.push_str(&escape(value));
            self.out.push('"');
        }
        self.out.push('>');
        self
    }

    /// Closes `tag`.
    pub fn close(&mut self, tag: &'static str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(tag);
        self.out.push('>');
        self
    }

    /// `<tag attributes...>text</tag>`, the text escaped.
    pub fn element(
        &mut self,
        tag: &'static str,
        attributes: &[(&'static str, &str)],
        text: &str,
    ) -> &mut Self {
        self.open(tag, attributes).text(text).close(tag)
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// The document.
    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_significant_character() {
        assert_eq!(
            escape(r#"<script>alert("x") & 'y'</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;"
        );
        assert_eq!(escape("a\0b"), "a\u{FFFD}b");
        // Already-escaped text is escaped again (shown as written, not decoded).
        assert_eq!(escape("&lt;"), "&amp;lt;");
        // Plain text, any language, is borrowed unchanged.
        assert!(matches!(escape("Адкрыты ліст"), Cow::Borrowed(_)));
    }

    #[test]
    fn text_and_attributes_cannot_open_markup() {
        let hostile = "\"><img src=x onerror=alert(1)><script>alert(1)</script>";
        let mut html = Html::new();
        html.open("a", &[("href", hostile), ("title", hostile)])
            .text(hostile)
            .close("a")
            .element("td", &[("data-x", "'")], hostile);
        let out = html.finish();
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<img"), "{out}");
        // Every quote inside a value is escaped, so each attribute ends where it should.
        assert_eq!(out.matches('"').count(), 6, "{out}");
        assert!(
            out.starts_with("<a href=\"&quot;&gt;&lt;img src=x"),
            "{out}"
        );
        assert!(out.ends_with("<td data-x=\"&#39;\">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(1)&lt;/script&gt;</td>"), "{out}");
    }
}
