"""Pages of deals: list with filters and sums, the form with errors at the fields, the 360
page, moves from the stage bar and the board (JSON for board.js), the board with its column
sums computed by the database and a query count that does not grow with the deals, the
settings pages of pipelines and loss reasons, and the Deals panel of accounts and contacts."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from farley.core.models import RecordShare
from farley.sales.models import LossReason, Opportunity, Pipeline, Stage
from farley.sales.services import opportunities as services
from tests.factories import make_account, make_contact, make_opportunity

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json"}


def stage(name: str) -> Stage:
    return Stage.objects.get(pipeline__name="Sales", name=name)


def sales_pipeline() -> Pipeline:
    return Pipeline.objects.get(name="Sales")


@pytest.fixture
def signed_in(client, sales1):
    client.force_login(sales1)
    return client


# --- list ------------------------------------------------------------------------------------


def test_the_list_filters_and_sums_in_each_currency(signed_in, sales1):
    account = make_account(sales1, name="Müller GmbH")
    make_opportunity(sales1, account=account, name="Fräse", amount="1000")
    make_opportunity(sales1, account=account, name="Drehbank", amount="3000",
                     stage_id=stage("Proposal").pk)  # fmt: skip
    make_opportunity(sales1, account=account, name="Import", amount="500", currency="USD")
    page = signed_in.get("/opportunities/").content.decode()
    assert "Fräse" in page and "Drehbank" in page and "Import" in page
    totals = page[page.index('id="deal-totals"') :]
    assert "4,000.00 EUR" in totals and "500.00 USD" in totals
    assert "1,600.00 EUR" in totals  # weighted: 1000 × 10 % + 3000 × 50 %
    page = signed_in.get("/opportunities/", {"stage": stage("Proposal").pk}).content.decode()
    assert "Drehbank" in page and "Fräse" not in page
    page = signed_in.get("/opportunities/", {"amount_min": "2000", "status": "open"}).content
    assert b"Drehbank" in page and b"Fr\xc3\xa4se" not in page


def test_bad_filters_on_the_page_are_ignored_not_a_500(signed_in, sales1):
    make_opportunity(sales1, name="Bleibt")
    response = signed_in.get("/opportunities/", {"amount_min": "viel", "close_from": "gestern",
                                                 "sort": "x", "cursor": "!!"})  # fmt: skip
    assert response.status_code == 200


def test_another_teams_deals_are_not_listed(client, sales2, sales1):
    make_opportunity(sales1, name="Geheim")
    client.force_login(sales2)
    assert b"Geheim" not in client.get("/opportunities/").content
    assert b"Geheim" not in client.get("/opportunities/board/").content


def test_list_queries_do_not_grow_with_the_deals(signed_in, sales1, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    account = make_account(sales1)
    signed_in.get("/opportunities/")  # the session's first request records the session

    def counted() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert signed_in.get("/opportunities/").status_code == 200
        return len(queries)

    make_opportunity(sales1, account=account, name="Deal", amount="1")
    few = counted()
    for i in range(30):
        make_opportunity(sales1, account=account, name=f"Deal {i}", amount=str(i))
    assert counted() == few
    # The page's queries and the navigation's counts (tasks due, unread notifications).
    with django_assert_max_num_queries(16):
        signed_in.get("/opportunities/")


# --- form ------------------------------------------------------------------------------------


def form(**changes) -> dict[str, str]:
    data = {"name": "Neue Anlage", "stage_id": str(stage("Qualification").pk), "amount": "",
            "currency": "EUR", "expected_close_date": "", "probability": "", "next_step": "",
            "competitor": "", "loss_reason_id": "", "loss_note": "", "description": "",
            "owner_id": "", "team_id": ""}  # fmt: skip
    data.update(changes)
    return data


def test_create_with_account_picker_contact_roles_and_lines(signed_in, sales1):
    account = make_account(sales1, name="Müller GmbH")
    contact = make_contact(sales1, first_name="Jana", last_name="Jäger")
    response = signed_in.post("/opportunities/new/", form(
        account=f"Müller GmbH [{account.customer_number}]",
        **{"contacts-0-contact": f"Jana Jäger [#{contact.pk}]", "contacts-0-role": "decision_maker",
           "lines-0-description": "Wartung", "lines-0-quantity": "12", "lines-0-unit_price": "99,50",
           "lines-0-discount_percent": "", "lines-0-tax_rate": "19", "lines-0-product_id": ""},
    ))  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    deal = Opportunity.objects.get()
    assert response["Location"] == f"/opportunities/{deal.pk}/"
    assert deal.account == account and deal.amount == Decimal("1194.00")
    assert deal.contact_roles.get().role == "decision_maker"
    page = signed_in.get(response["Location"]).content.decode()
    assert "Jana Jäger" in page and "Decision maker" in page and "Wartung" in page
    assert "1,194.00 EUR" in page


def test_errors_are_shown_at_the_fields_and_nothing_is_saved(signed_in, sales1, sales2):
    foreign = make_account(sales2, name="Fremd AG")
    response = signed_in.post("/opportunities/new/", form(
        name="", account=f"Fremd AG [{foreign.customer_number}]", amount="-5", currency="XYZ",
        probability="150", **{"lines-0-description": "x", "lines-0-quantity": "-1",
                              "lines-0-unit_price": "1"},
    ))  # fmt: skip
    assert response.status_code == 422
    page = response.content.decode()
    for field in ("name", "account", "currency", "probability"):
        assert re.search(rf'id="f-{field}"[^>]*|class="[^"]*is-invalid[^"]*"[^>]*id="f-{field}"',
                         page), field  # fmt: skip
    assert 'is-invalid" id="f-lines-0-quantity"' in page
    assert "Select an account you can see." in page
    assert not Opportunity.objects.exists()


def test_a_stage_needs_the_lost_reason_in_the_form(signed_in, sales1):
    deal = make_opportunity(sales1, name="Verloren?")
    account = deal.account
    data = form(name="Verloren?", account=f"{account.name} [{account.customer_number}]",
                stage_id=str(stage("Lost").pk), version=str(deal.version))  # fmt: skip
    response = signed_in.post(f"/opportunities/{deal.pk}/edit/", data)
    assert response.status_code == 422
    assert "A lost deal needs a loss reason." in response.content.decode()
    data["loss_reason_id"] = str(LossReason.objects.get(name="Price").pk)
    response = signed_in.post(f"/opportunities/{deal.pk}/edit/", data)
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage.kind == "lost" and deal.closed_at is not None


def test_a_stale_form_is_a_conflict_that_keeps_the_input(signed_in, sales1):
    deal = make_opportunity(sales1, name="Alt")
    services.opportunity_update(actor=sales1, opportunity_id=deal.pk, data={"next_step": "Anruf"})
    data = form(name="Meins", account=f"{deal.account.name} [{deal.account.customer_number}]",
                version="1")  # fmt: skip
    response = signed_in.post(f"/opportunities/{deal.pk}/edit/", data)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else saved this deal" in page and 'value="Meins"' in page
    assert 'name="version" value="2"' in page
    deal.refresh_from_db()
    assert deal.name == "Alt"


def test_the_new_form_starts_from_the_account_or_contact(signed_in, sales1):
    account = make_account(sales1, name="Start GmbH")
    contact = make_contact(sales1, last_name="Kunz", account_links=[{"account_id": account.pk}])
    page = signed_in.get(f"/opportunities/new/?account={account.pk}").content.decode()
    assert f'value="Start GmbH [{account.customer_number}]"' in page
    page = signed_in.get(f"/opportunities/new/?contact={contact.pk}").content.decode()
    assert f"Kunz [#{contact.pk}]" in page and "Start GmbH" in page


def test_the_pickers_offer_only_visible_records(signed_in, sales1, sales2):
    make_account(sales1, name="Sichtbar GmbH")
    make_account(sales2, name="Sichtbar Fremd AG")
    page = signed_in.get("/opportunities/accounts/", {"account": "Sichtbar"}).content.decode()
    assert "Sichtbar GmbH" in page and "Fremd" not in page
    make_contact(sales1, first_name="Eva", last_name="Eigen")
    make_contact(sales2, first_name="Eva", last_name="Fremd")
    page = signed_in.get("/opportunities/contacts/", {"contacts-0-contact": "Eva"}).content
    assert b"Eigen" in page and b"Fremd" not in page


# --- the deal's page and moves ---------------------------------------------------------------


def test_detail_shows_stage_bar_history_and_stale_warning(signed_in, sales1):
    deal = make_opportunity(sales1, name="Anlage", expected_close_date="2020-01-31")
    page = signed_in.get(f"/opportunities/{deal.pk}/").content.decode()
    assert 'id="stage-bar"' in page and 'aria-current="step"' in page
    assert 'id="stale-warning"' in page and "Close date has passed" in page
    assert 'id="stage-changes"' in page and 'id="history"' in page


def test_the_stage_bar_moves_and_a_stale_version_explains(signed_in, sales1):
    deal = make_opportunity(sales1)
    url = f"/opportunities/{deal.pk}/move/"
    response = signed_in.post(url, {"stage_id": stage("Won").pk, "version": "1"})
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.stage.kind == "won"
    response = signed_in.post(url, {"stage_id": stage("Proposal").pk, "version": "1"}, follow=True)
    assert "Someone else changed this deal" in response.content.decode()
    deal.refresh_from_db()
    assert deal.stage.kind == "won"


def test_board_moves_answer_json(signed_in, sales1, admin):
    deal = make_opportunity(sales1)
    url = f"/opportunities/{deal.pk}/move/"
    response = signed_in.post(url, {"stage_id": stage("Proposal").pk, "version": "1"}, **JSON)
    assert response.status_code == 200 and response.json()["version"] == 2
    response = signed_in.post(url, {"stage_id": stage("Won").pk, "version": "1"}, **JSON)
    assert response.status_code == 409
    assert "Someone else changed this deal" in response.json()["error"]["message"]
    response = signed_in.post(url, {"stage_id": stage("Lost").pk, "version": "2"}, **JSON)
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["loss_reason_id"]
    other = services.pipeline_create(actor=admin, data={"name": "Partner", "stages": [
        {"name": "A", "kind": "open"}, {"name": "W", "kind": "won"}, {"name": "L", "kind": "lost"},
    ]})  # fmt: skip
    response = signed_in.post(url, {"stage_id": other.stages.get(name="W").pk, "version": "2"},
                              **JSON)  # fmt: skip
    assert response.status_code == 422
    assert "a stage from another pipeline" in response.json()["error"]["message"]
    deal.refresh_from_db()
    assert (deal.stage.name, deal.version) == ("Proposal", 2)


def test_another_team_gets_404_for_pages_and_moves(client, sales1, sales2):
    deal = make_opportunity(sales1)
    client.force_login(sales2)
    for url in (f"/opportunities/{deal.pk}/", f"/opportunities/{deal.pk}/edit/"):
        assert client.get(url).status_code == 404
    response = client.post(f"/opportunities/{deal.pk}/move/",
                           {"stage_id": stage("Won").pk, "version": "1"}, **JSON)  # fmt: skip
    assert response.status_code == 404


def test_a_read_only_share_shows_no_move_buttons(client, sales1, sales2):
    deal = make_opportunity(sales1, name="Geteilt")
    RecordShare.objects.create(entity="opportunity", object_id=deal.pk, user=sales2)
    client.force_login(sales2)
    page = client.get(f"/opportunities/{deal.pk}/").content.decode()
    assert "Geteilt" in page and f"/opportunities/{deal.pk}/move/" not in page
    response = client.post(f"/opportunities/{deal.pk}/move/",
                           {"stage_id": stage("Won").pk, "version": "1"}, **JSON)  # fmt: skip
    assert response.status_code == 403


def test_delete_and_restore_pages(signed_in, sales1):
    deal = make_opportunity(sales1, name="Weg")
    assert signed_in.post(f"/opportunities/{deal.pk}/delete/").status_code == 302
    assert b"Weg" in signed_in.get("/opportunities/trash/").content
    assert b"This deal is in the trash" in signed_in.get(f"/opportunities/{deal.pk}/").content
    assert signed_in.post(f"/opportunities/{deal.pk}/restore/").status_code == 302
    deal.refresh_from_db()
    assert deal.deleted_at is None


# --- board -----------------------------------------------------------------------------------


def test_board_columns_count_and_sum_with_filters(signed_in, sales1, manager):
    account = make_account(sales1)
    make_opportunity(sales1, account=account, name="A", amount="100")
    make_opportunity(sales1, account=account, name="B", amount="250.50")
    make_opportunity(sales1, account=account, name="C", amount="1000", stage_id=stage("Won").pk)
    make_opportunity(sales1, account=account, name="D", amount="70", currency="USD")
    page = signed_in.get("/opportunities/board/").content.decode()
    first = page[page.index(f'id="col-{stage("Qualification").pk}"') :]
    first = first[: first.index("</section>")]
    assert "3 deals" in first and "350.50 EUR" in first and "70.00 USD" in first
    won = page[page.index(f'id="col-{stage("Won").pk}"') :]
    assert "1 deal" in won[: won.index("</section>")]
    page = signed_in.get("/opportunities/board/", {"amount_min": "200"}).content.decode()
    first = page[page.index(f'id="col-{stage("Qualification").pk}"') :]
    first = first[: first.index("</section>")]
    assert "1 deal" in first and "250.50 EUR" in first and ">A<" not in first
    assert 'value="200"' in page  # the filter stays in the URL and the form


def test_board_pages_its_columns(signed_in, sales1):
    account = make_account(sales1)
    for i in range(35):
        make_opportunity(sales1, account=account, name=f"Karte {i:02d}")
    page = signed_in.get("/opportunities/board/").content.decode()
    assert page.count('class="board-card ') == 30
    cursor = re.search(r"cursor=([^&\"]+)", page).group(1)
    column = stage("Qualification")
    more = signed_in.get(
        f"/opportunities/board/{column.pipeline_id}/stages/{column.pk}/?cursor={cursor}",
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert more.count('class="board-card ') == 5
    assert 'hx-swap-oob="true"' in more and "Show more" not in more
    shown = re.findall(r"Karte \d\d", page + more)
    assert len(set(shown)) == 35


@pytest.mark.parametrize("deals", [3, 40])
def test_board_queries_do_not_grow_with_the_deals(
    signed_in, sales1, deals, django_assert_max_num_queries
):
    account = make_account(sales1)
    for i in range(deals):
        make_opportunity(sales1, account=account, name=f"Deal {i}", amount=str(i),
                         stage_id=stage("Proposal" if i % 2 else "Qualification").pk)  # fmt: skip
    signed_in.get("/opportunities/board/")  # the session's first request records the browser
    # session, user, role, teams, shares, default pipeline, pipeline + stages, the aggregate,
    # one card query per non-empty column (at most one per stage: 6), loss reasons, pipelines
    # menu, owners, teams, the session's last-seen update
    with django_assert_max_num_queries(20):
        response = signed_in.get("/opportunities/board/")
    assert response.status_code == 200


def test_a_column_comes_again_with_its_sums(signed_in, sales1):
    deal = make_opportunity(sales1, name="Einzeln", amount="42")
    column = signed_in.get(
        f"/opportunities/board/{deal.pipeline_id}/stages/{deal.stage_id}/", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert column.startswith("<section") and "42.00 EUR" in column and "Einzeln" in column


def test_a_read_only_user_gets_no_drag_and_drop(client, reader, sales1):
    make_opportunity(sales1)
    client.force_login(reader)
    page = client.get("/opportunities/board/").content.decode()
    assert "data-sortable" not in page and "board-card" in page


# --- settings --------------------------------------------------------------------------------


def test_settings_pages_are_for_administrators(client, sales1, admin):
    client.force_login(sales1)
    assert client.get("/settings/pipelines/").status_code == 403
    assert client.post("/settings/loss-reasons/", {"name": "X"}).status_code == 403
    client.force_login(admin)
    page = client.get("/settings/").content.decode()
    assert "/settings/pipelines/" in page
    page = client.get("/settings/pipelines/").content.decode()
    assert "Sales" in page and "Price" in page


def stage_form(rows: list[dict], **fields) -> dict[str, str]:
    data = {"name": "Partner", "order": "20", "stale_after_days": "14", "active": "on", **fields}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"stages-{i}-{key}"] = str(value)
    return data


def test_create_and_edit_a_pipeline_in_the_form(client, admin):
    client.force_login(admin)
    rows = [{"name": "Erstkontakt", "probability": 10, "kind": "open"},
            {"name": "Gewonnen", "probability": 100, "kind": "won"}]  # fmt: skip
    response = client.post("/settings/pipelines/new/", stage_form(rows))
    assert response.status_code == 422
    assert "A pipeline needs at least one lost stage." in response.content.decode()
    rows.append({"name": "Verloren", "probability": 0, "kind": "lost"})
    response = client.post("/settings/pipelines/new/", stage_form(rows))
    assert response.status_code == 302
    pipeline = Pipeline.objects.get(name="Partner")
    assert pipeline.stale_after_days == 14
    ids = list(pipeline.stages.order_by("order").values_list("pk", flat=True))
    rows = [{"id": ids[0], "name": "Erstkontakt", "name_de": "", "probability": 150, "kind": "open"},
            {"id": ids[1], "name": "Gewonnen", "probability": 100, "kind": "won"},
            {"id": ids[2], "name": "Verloren", "probability": 0, "kind": "lost"}]  # fmt: skip
    response = client.post(f"/settings/pipelines/{pipeline.pk}/", stage_form(rows))
    assert response.status_code == 422
    assert 'is-invalid" type="number" min="0" max="100" id="f-stages-0-probability"' in (
        response.content.decode()
    )
    rows[0]["probability"] = 20
    response = client.post(f"/settings/pipelines/{pipeline.pk}/", stage_form(rows))
    assert response.status_code == 302
    assert pipeline.stages.get(pk=ids[0]).probability == 20
    assert client.post(f"/settings/pipelines/{pipeline.pk}/delete/").status_code == 302
    assert not Pipeline.objects.filter(pk=pipeline.pk).exists()


def test_loss_reasons_are_added_renamed_and_deactivated_in_settings(client, admin):
    client.force_login(admin)
    response = client.post("/settings/loss-reasons/", {"name": "Lieferzeit", "name_de": ""})
    assert response.status_code == 302
    reason = LossReason.objects.get(name="Lieferzeit")
    response = client.post(f"/settings/loss-reasons/{reason.pk}/",
                           {"name": "Delivery time", "name_de": "Lieferzeit", "order": "5"})  # fmt: skip
    assert response.status_code == 302
    reason.refresh_from_db()
    assert (reason.name, reason.name_de, reason.active) == ("Delivery time", "Lieferzeit", False)
    response = client.post("/settings/loss-reasons/", {"name": "price"})
    assert response.status_code == 422
    assert "exists already" in response.content.decode()


# --- the 360 panel ---------------------------------------------------------------------------


def test_the_deals_panel_on_accounts_and_contacts(signed_in, sales1, sales2):
    account = make_account(sales1, name="Panel GmbH")
    contact = make_contact(sales1, last_name="Rolle")
    make_opportunity(sales1, account=account, name="Offen", amount="500",
                     contacts=[{"contact_id": contact.pk, "role": "influencer"}])  # fmt: skip
    make_opportunity(sales1, account=account, name="Gewonnen", stage_id=stage("Won").pk)
    page = signed_in.get(f"/accounts/{account.pk}/").content.decode()
    panel = page[page.index('id="panel-deals"') :]
    assert "Offen" in panel and "Gewonnen" in panel and "500.00 EUR" in panel
    assert panel.index("Offen") < panel.index("Gewonnen")
    assert f"/opportunities/new/?account={account.pk}" in panel
    page = signed_in.get(f"/contacts/{contact.pk}/").content.decode()
    panel = page[page.index('id="panel-deals"') :]
    assert "Offen" in panel and "Gewonnen" not in panel[: panel.index("</table>")]
