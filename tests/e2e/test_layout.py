"""Layout and keyboard checks in a real browser: nothing is wider than the window (English and
German), tables scroll inside their cards, and the global search works with the arrow keys."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import make_contact

pytestmark = pytest.mark.django_db(transaction=True)

# What a page may not do: be wider than the window (a horizontal scroll bar for the whole page).
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _use_language(user, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


@pytest.mark.parametrize("language", ["en", "de"])
def test_contacts_list_and_settings_fit_the_window_at_1024_and_1280(page, admin_login, language):
    make_contact(
        admin_login,
        first_name="Maximiliane",
        last_name="Oberhausen-Wiedenbrück",
        emails=[
            {"address": "maximiliane.oberhausen-wiedenbrueck@rohleder-bauunternehmung.example"}
        ],
        phones=[{"number": "+44 121 481 6779"}],
    )
    _use_language(admin_login, language)
    for width in (1024, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        for path in ("/contacts/", "/settings/"):
            page.goto(page.base_url + path)
            expect(page.locator("html")).to_have_attribute("lang", language)
            assert page.evaluate(OVERFLOW) == 0, f"{path} is wider than {width} px ({language})"
            # The header never pushes anything out: the user menu (expanded header) or the
            # toggler (collapsed header) ends inside the window.
            menu = page.locator(".farley-nav .dropdown-toggle, .farley-nav .navbar-toggler")
            box = menu.locator("visible=true").first.bounding_box()
            assert box and box["x"] + box["width"] <= width, f"{path} header ({language})"
    # At 1280 px the default contact columns fit without scrolling the table sideways.
    page.goto(page.base_url + "/contacts/")
    table = page.locator("#list-table .table-responsive")
    assert table.evaluate("t => t.scrollWidth - t.clientWidth") <= 0
    expect(page.locator("#records th").last).to_be_in_viewport()


def test_header_menu_collapses_below_1200_and_opens(page, admin_login):
    _use_language(admin_login, "de")
    page.set_viewport_size({"width": 1100, "height": 800})
    page.goto(page.base_url + "/")
    user_menu = page.locator(".farley-nav .dropdown-toggle")
    expect(user_menu).to_be_hidden()
    page.locator(".farley-nav .navbar-toggler").click()
    # Wait for the menu's opening transition to end: a click on the user menu while it
    # still runs was sometimes lost.
    expect(page.locator("#nav")).to_have_class(re.compile(r"\bshow\b"))
    expect(user_menu).to_be_visible()
    user_menu.click()
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    assert page.evaluate(OVERFLOW) == 0


def test_api_token_table_scrolls_inside_its_card_on_a_phone(page, admin_login):
    from farley.core.services import token_create

    token_create(user=admin_login, name="ERP-Synchronisation Produktivsystem")
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(page.base_url + "/profile/")
    expect(page.get_by_text("ERP-Synchronisation Produktivsystem")).to_be_visible()
    assert page.evaluate(OVERFLOW) == 0
    expect(page.locator(".table-responsive").get_by_role("button", name="Revoke")).to_have_count(1)


def test_arrow_keys_move_through_all_search_results_and_escape_returns(page, admin_login):
    for first_name in ("Anton", "Berta", "Carla"):
        make_contact(admin_login, first_name=first_name, last_name="Quenstedt")
    search = page.locator("#global-search")
    search.fill("Quenstedt")
    hits = page.locator("#search-results a")
    expect(hits).to_have_count(3)

    for index in range(3):
        page.keyboard.press("ArrowDown")
        expect(hits.nth(index)).to_be_focused()
    page.keyboard.press("ArrowDown")  # the last result stays focused
    expect(hits.nth(2)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(hits.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")  # up from the first result: back to the search box
    expect(search).to_be_focused()
    page.keyboard.press("ArrowUp")  # up from the box: the last result
    expect(hits.nth(2)).to_be_focused()

    page.keyboard.press("Escape")
    expect(search).to_be_focused()
    expect(hits).to_have_count(0)
    expect(search).to_have_value("Quenstedt")

    # Enter on a focused result opens it.
    search.fill("Quenstedt Berta")
    expect(hits).to_have_count(1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Berta Quenstedt")


def test_keyboard_focus_is_clearly_visible_on_the_dark_header(page, admin_login):
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # brand
    page.keyboard.press("Tab")  # first navigation link
    focused = page.locator(".farley-nav .nav-link").first
    expect(focused).to_be_focused()
    outline = focused.evaluate(
        "e => { const s = getComputedStyle(e); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert outline == ["solid", "3px"]
    page.keyboard.press("/")
    assert page.locator("#global-search").evaluate("e => getComputedStyle(e).outlineStyle") == (
        "solid"
    )


def test_failed_submit_puts_the_cursor_into_the_first_marked_field(page, admin_login):
    page.goto(page.base_url + "/contacts/new/")
    page.fill("#f-first_name", "Ohne")
    page.fill("#f-addresses-0-street", "Marienplatz")
    page.fill("#f-addresses-0-postal_code", "8033")
    page.fill("#f-addresses-0-city", "München")
    page.click("#record-form button[type=submit]")
    expect(page.locator(".alert-danger")).to_be_visible()
    invalid = page.locator("#record-form .is-invalid")
    expect(invalid.first).to_have_id("f-last_name")
    expect(invalid.first).to_be_focused()


@pytest.mark.parametrize("width", [390, 1280])
def test_email_and_phone_type_fits_its_select_in_german(page, admin_login, width):
    contact = make_contact(
        admin_login,
        last_name="Weber",
        emails=[{"address": "weber@example.com", "kind": "work"}],
        phones=[{"number": "030 1234567", "kind": "work"}],
        addresses=[{"street": "Hauptstraße", "postal_code": "10115", "city": "Berlin"}],
    )
    _use_language(admin_login, "de")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(page.base_url + f"/contacts/{contact.pk}/edit/")
    page.select_option("#f-addresses-0-kind", "billing")
    # The select is at least as wide as its longest option plus its padding and arrow.
    too_narrow = page.evaluate(
        """() => [...document.querySelectorAll('.form-row-item select:not([id$=country])')]
          .filter(s => {
            const c = document.createElement('canvas').getContext('2d');
            const st = getComputedStyle(s); c.font = st.font;
            const text = Math.max(...[...s.options].map(o => c.measureText(o.text).width));
            const need = text + parseFloat(st.paddingLeft) + parseFloat(st.paddingRight);
            return s.clientWidth + 1 < need;
          }).map(s => s.id)"""
    )
    assert too_narrow == []
    assert page.evaluate(OVERFLOW) == 0
