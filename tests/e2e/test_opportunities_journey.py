"""Deals on the board in a real browser: drag a deal across the board to "Won" (the column
sums follow, the stage history records it), drop one on "Lost" and pick the reason in the
dialog, and two users moving the same deal at once (the second gets the 409 message and the
board shows where the deal really is; nothing is lost)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from farley.sales.models import LossReason, Opportunity, Stage, StageChange
from tests.factories import make_account, make_opportunity

pytestmark = pytest.mark.django_db(transaction=True)


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__name="Sales", name=name)


def column(page, name: str):
    return page.locator(f"#col-{stage(name).pk}")


def card(page, deal: Opportunity):
    return page.locator(f"#card-{deal.pk}")


def drag(page, source, target) -> None:
    """A real drag with the mouse: press on the card, move in steps, release over the column
    (SortableJS's pointer mode follows the moves)."""
    source.scroll_into_view_if_needed()
    box = source.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 10, box["y"] + 20, steps=5)
    target.scroll_into_view_if_needed()
    goal = target.bounding_box()
    page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + goal["height"] / 2, steps=20)
    page.mouse.move(goal["x"] + goal["width"] / 2, goal["y"] + goal["height"] / 2 + 5, steps=5)
    page.mouse.up()


def test_drag_a_deal_to_won_and_another_to_lost(page, admin_login):
    account = make_account(admin_login, name="Müller Maschinenbau GmbH")
    big = make_opportunity(admin_login, account=account, name="Fräszentrum", amount="12000",
                           stage_id=stage("Negotiation").pk)  # fmt: skip
    make_opportunity(admin_login, account=account, name="Wartung", amount="3000",
                     stage_id=stage("Negotiation").pk)  # fmt: skip
    small = make_opportunity(admin_login, account=account, name="Schulung", amount="800")
    page.goto(page.base_url + "/")
    page.get_by_role("link", name="Deals", exact=True).click()
    expect(page.locator("h1")).to_have_text("Deals: Sales")
    negotiation, won = column(page, "Negotiation"), column(page, "Won")
    expect(negotiation.locator(".board-totals")).to_contain_text("2 deals")
    expect(negotiation.locator(".board-totals")).to_contain_text("15,000.00 EUR")
    expect(won.locator(".board-totals")).to_contain_text("0 deals")

    # Drag the big deal to Won: the move is saved and both columns' sums follow.
    drag(page, card(page, big), won.locator(".board-cards"))
    expect(page.locator("#board-message")).to_contain_text("Moved “Fräszentrum” to “Won”.")
    expect(column(page, "Won").locator(".board-totals")).to_contain_text("1 deal")
    expect(column(page, "Won").locator(".board-totals")).to_contain_text("12,000.00 EUR")
    expect(column(page, "Negotiation").locator(".board-totals")).to_contain_text("3,000.00 EUR")
    expect(column(page, "Won").locator(f"#card-{big.pk}")).to_be_visible()
    big.refresh_from_db()
    assert big.stage.name == "Won" and big.closed_at is not None and big.version == 2
    last = StageChange.objects.filter(opportunity=big).latest("pk")
    assert (last.from_stage.name, last.to_stage.name, last.changed_by) == (
        "Negotiation", "Won", admin_login,
    )  # fmt: skip

    # The deal's page shows the move in its stage history.
    column(page, "Won").get_by_role("link", name="Fräszentrum").click()
    expect(page.locator("#stage-changes")).to_contain_text("Negotiation")
    expect(page.locator("#stage-changes tbody tr").first).to_contain_text("Won")
    expect(page.locator("#stage-changes tbody tr").first).to_contain_text("Anna Admin")
    page.go_back()

    # Drop the small deal on Lost: a dialog asks the reason; cancelling puts the card back.
    lost = column(page, "Lost")
    drag(page, card(page, small), lost.locator(".board-cards"))
    dialog = page.locator("#loss-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(column(page, "Qualification").locator(f"#card-{small.pk}")).to_be_visible()
    small.refresh_from_db()
    assert small.stage.name == "Qualification"

    drag(page, card(page, small), column(page, "Lost").locator(".board-cards"))
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Mark as lost").click()  # no reason yet: refused
    expect(page.locator("#loss-reason")).to_have_class(re.compile("is-invalid"))
    page.select_option("#loss-reason", label="Competitor")
    page.fill("#loss-note", "Angebot 15 % günstiger")
    page.fill("#loss-competitor", "Wettbewerb AG")
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(page.locator("#board-message")).to_contain_text("Moved “Schulung” to “Lost”.")
    expect(column(page, "Lost").locator(f"#card-{small.pk}")).to_be_visible()
    expect(column(page, "Lost").locator(".board-totals")).to_contain_text("800.00 EUR")
    small.refresh_from_db()
    assert small.loss_reason == LossReason.objects.get(name="Competitor")
    assert (small.loss_note, small.competitor) == ("Angebot 15 % günstiger", "Wettbewerb AG")


def test_two_users_move_the_same_deal_and_the_second_gets_the_409_message(
    browser, live_server, page, admin_login
):
    deal = make_opportunity(admin_login, name="Streitfall", amount="5000")
    page.goto(page.base_url + "/opportunities/board/")
    expect(card(page, deal)).to_be_visible()

    # A second browser (a colleague, same account here) loads the board and moves it first.
    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        second = other.new_page()
        second.set_default_timeout(10_000)
        second.goto(live_server.url + "/login/")
        second.fill("#id_username", admin_login.email)
        second.fill("#id_password", "Correct-Horse-Battery-9")
        second.click("button[type=submit]")
        second.wait_for_url(live_server.url + "/")
        second.goto(live_server.url + "/opportunities/board/")
        drag(second, card(second, deal), column(second, "Proposal").locator(".board-cards"))
        expect(second.locator("#board-message")).to_contain_text("Moved “Streitfall”")
    finally:
        other.close()
    deal.refresh_from_db()
    assert (deal.stage.name, deal.version) == ("Proposal", 2)

    # The first board still shows the old version: its move is refused with 409, the message
    # says so, and the board shows the deal where the colleague put it.
    drag(page, card(page, deal), column(page, "Won").locator(".board-cards"))
    expect(page.locator("#board-message")).to_contain_text("Someone else changed this deal")
    expect(column(page, "Proposal").locator(f"#card-{deal.pk}")).to_be_visible()
    expect(column(page, "Won").locator(f"#card-{deal.pk}")).to_have_count(0)
    expect(column(page, "Won").locator(".board-totals")).to_contain_text("0 deals")
    deal.refresh_from_db()
    assert (deal.stage.name, deal.version) == ("Proposal", 2)
    assert StageChange.objects.filter(opportunity=deal).count() == 2


def test_a_deal_from_the_form_to_the_board_with_a_stale_warning(page, admin_login):
    make_account(admin_login, name="Kunde Nord GmbH")
    page.goto(page.base_url + "/opportunities/new/")
    page.fill("#f-name", "Altanlage")
    page.fill("#f-account", "Kunde Nord")
    page.fill("#f-expected_close_date", "2020-03-31")
    page.fill("#f-amount", "-5")
    page.click("#record-form button[type=submit]")
    expect(page.locator("#f-amount")).to_have_class(re.compile("is-invalid"))
    page.fill("#f-amount", "2500")
    page.click("[data-add-row=lines]")
    page.fill("#f-lines-0-description", "Montage")
    page.fill("#f-lines-0-quantity", "2")
    page.fill("#f-lines-0-unit_price", "1.250,00")
    page.click("#record-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("Altanlage")
    expect(page.locator("#stale-warning")).to_contain_text("Close date has passed")
    expect(page.locator("#line-items")).to_contain_text("2,500.00 EUR")
    page.get_by_role("link", name="Board").click()
    stale_card = page.locator(".board-card", has_text="Altanlage")
    expect(stale_card.locator(".stale-note")).to_contain_text("Stale")
    expect(stale_card.locator(".stale-note")).to_contain_text("Close date has passed")
