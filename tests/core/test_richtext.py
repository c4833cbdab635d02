"""HTML from outside (emails, API clients) keeps its formatting and loses everything that
could run in a browser."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farley.core.richtext import sanitize, to_text

ATTACKS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">klick</a>',
    '<a href="JaVaScRiPt:alert(1)">klick</a>',
    '<svg onload="alert(1)"><circle/></svg>',
    '<iframe src="https://evil.example"></iframe>',
    '<p style="background:url(javascript:alert(1))">x</p>',
    '<form action="https://evil.example"><input name=pw></form>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<!--<img src=x onerror=alert(1)>-->",
    '<object data="x.swf"></object><embed src="x">',
    '<base href="https://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_nothing_that_runs_survives(attack):
    clean = sanitize(f"<p>Guten Tag</p>{attack}").lower()
    for bad in ("<script", "onerror", "onload", "javascript:", "<svg", "<iframe", "style=",
                "<form", "<input", "<object", "<embed", "<base", "<meta", "<img", "<style"):  # fmt: skip
        assert bad not in clean, (attack, clean)
    assert "guten tag" in clean


def test_formatting_and_safe_links_stay():
    html = (
        "<h2>Angebot</h2><p>Sehr <b>geehrte</b> <em>Frau</em> Müller,</p>"
        '<ul><li>Punkt 1</li></ul><a href="https://farley.example/a">Link</a>'
        '<a href="mailto:info@example.de">Mail</a>'
    )
    clean = sanitize(html)
    for kept in ("<h2>Angebot</h2>", "<b>geehrte</b>", "<em>Frau</em>", "<li>Punkt 1</li>",
                 'href="https://farley.example/a"', 'href="mailto:info@example.de"'):  # fmt: skip
        assert kept in clean
    assert 'rel="noopener noreferrer nofollow"' in clean


def test_plain_text_of_html():
    assert to_text("<p>Hallo &amp; Tschüss</p><p>Zeile 2<br>Zeile 3</p><script>x()</script>") == (
        "Hallo & Tschüss\nZeile 2\nZeile 3"
    )


@given(st.text())
def test_any_input_gives_text_without_tags_that_run(value):
    clean = sanitize(value).lower()
    assert "<script" not in clean and "onerror=" not in clean
    assert sanitize(clean) == clean, "sanitising twice changes nothing"
