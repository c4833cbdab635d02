"""Browser journey: the forecast with its filters, table and chart, then the sales-cycle and
lost-deal analyses — under the strict Content-Security-Policy, without a violation."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import make_user
from tests.sales.forecast_helpers import deal, moves, stage, target


def test_forecast_journey(page, admin_login):
    from farley.core.models import Team

    team = Team.objects.get(name="Vertrieb")
    bea = make_user("sales", team, full_name="Bea Berger")
    today = timezone.localdate()
    now = timezone.now()
    deal(admin_login, stage("Proposal"), "10000.00", close=today.isoformat())
    deal(bea, stage("Negotiation"), "4000.00", close=today.isoformat())
    won = deal(bea, stage("Qualification"), "2500.00", created_at=now - dt.timedelta(days=20))
    # Won within this quarter whatever today is (the forecast's default period).
    won_at = max(now - dt.timedelta(days=2), timezone.localtime(now).replace(hour=0, minute=0))
    moves(won, ("Qualification", now - dt.timedelta(days=20)), ("Proposal", now - dt.timedelta(days=12)),
          ("Won", won_at))  # fmt: skip
    lost = deal(admin_login, stage("Qualification"), "700.00", created_at=now - dt.timedelta(days=9),
                competitor="Konkurrenz AG", loss_reason="Price")  # fmt: skip
    moves(lost, ("Qualification", now - dt.timedelta(days=9)), ("Lost", now - dt.timedelta(days=1)))
    target(bea, f"{today:%Y-%m}", "5000")

    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda error: violations.append(str(error)))

    page.goto(page.base_url + "/")
    page.get_by_role("link", name="Forecast", exact=True).click()
    expect(page.locator("h1")).to_have_text("Forecast")
    table = page.locator("#forecast-table")
    expect(table).to_be_visible()
    expect(page.locator("#sum-best-case")).to_have_text("€14,000.00")
    expect(page.locator("#sum-weighted")).to_have_text("€8,000.00")
    expect(page.locator("#sum-won")).to_have_text("€2,500.00")
    chart = page.locator("#forecast-chart")
    expect(chart).to_have_attribute("data-rendered", "1")
    assert chart.bounding_box()["height"] > 100

    # Quarters instead of months, broken down by owner; then only Bea's deals.
    page.select_option("#flt-grouping", "quarter")
    page.select_option("#flt-breakdown", "owner")
    page.get_by_role("button", name="Apply").click()
    expect(table.locator("tbody")).to_contain_text("Bea Berger")
    expect(table.locator("tbody")).to_contain_text("Anna Admin")
    expect(table.locator("thead")).to_contain_text("Owner")
    page.select_option("#flt-owner", label="Bea Berger")
    page.get_by_role("button", name="Apply").click()
    expect(table.locator("tbody")).not_to_contain_text("Anna Admin")
    expect(page.locator("#sum-best-case")).to_have_text("€4,000.00")
    expect(page.locator("#sum-target")).to_have_text("€5,000.00")
    expect(page.locator("#sum-attainment")).to_have_text("50.0 %")
    expect(page.locator("#forecast-chart")).to_have_attribute("data-rendered", "1")
    assert page.locator("#flt-grouping").input_value() == "quarter"

    # A wrong custom range is a field error, not a page that breaks.
    page.fill("#flt-from", "2025-06-01")
    assert page.locator("#flt-period").input_value() == "custom"
    page.fill("#flt-to", "2025-01-01")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#flt-to")).to_have_class("form-control form-control-sm is-invalid")
    expect(page.locator("#e-to")).to_contain_text("must not be before")

    # The two analyses.
    page.get_by_role("link", name="Sales cycle").click()
    expect(page.locator("h1")).to_have_text("Sales cycle")
    page.select_option("#flt-owner", "")
    page.select_option("#flt-period", "last_12_months")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#win-rate")).to_have_text("50.0 %")
    expect(page.locator("#cycle-table")).to_contain_text("Qualification")
    expect(page.locator("#days-chart")).to_have_attribute("data-rendered", "1")
    expect(page.locator("#funnel-chart")).to_have_attribute("data-rendered", "1")

    page.get_by_role("link", name="Lost deals").click()
    expect(page.locator("h1")).to_have_text("Lost deals")
    expect(page.locator("#lost-count")).to_have_text("1")
    expect(page.locator("#lost-reason")).to_contain_text("Price")
    expect(page.locator("#lost-competitor")).to_contain_text("Konkurrenz AG")
    expect(page.locator("#lost-stage")).to_contain_text("Qualification")
    for key in ("reason", "competitor", "stage"):
        expect(page.locator(f"#lost-{key}-chart")).to_have_attribute("data-rendered", "1")

    # Targets: the settings tab of administrators.
    page.get_by_role("link", name="Targets").click()
    page.select_option("#f-who", label="Anna Admin")
    page.fill("#f-month", f"{today:%Y-%m}")
    page.fill("#f-amount", "20000")
    page.get_by_role("button", name="Save target").click()
    expect(page.locator("#targets-table")).to_contain_text("Anna Admin")
    expect(page.locator("#targets-table")).to_contain_text("€20,000.00")
    assert violations == []
