"""Rich text (HTML from emails, imports and API clients) made safe with nh3 (the Rust
sanitiser ammonia): only formatting tags survive, links only to http(s), mailto and tel, and
nothing that runs — no scripts, event handlers, styles, SVG, forms or frames."""

from __future__ import annotations

import html
import re

import nh3

TAGS = {
    "a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "li", "ol", "p", "pre", "s", "small", "span", "strong", "sub", "sup", "table", "tbody",
    "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


def sanitize(value: str) -> str:
    """The HTML with everything but plain formatting removed."""
    return nh3.clean(
        value or "",
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


_BLOCK_END = re.compile(r"</(p|div|li|h[1-6]|tr|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)


def to_text(value: str) -> str:
    """Plain text of an HTML fragment (for search, previews and exports)."""
    text = _BLOCK_END.sub("\n", sanitize(value))
    text = nh3.clean(text, tags=set())
    return re.sub(r"\n{3,}", "\n\n", html.unescape(text)).strip()


def from_text(value: str) -> str:
    """Plain text as HTML that shows the same (escaped, line breaks kept)."""
    return html.escape(value or "").replace("\n", "<br>")
