"""REST API for leads (/api/v1/leads), their conversion, import/export and the
lead-assignment rules: fixed field names, filters, sorting, keyset pages, the error JSON of
every refusal and constant query counts."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from farley.contacts.models import Account
from farley.sales.models import AssignmentRule, Lead
from tests.apiclient import Api
from tests.factories import TeamFactory, make_account, make_contact, make_lead, make_user

pytestmark = pytest.mark.django_db


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.fixture
def api1(sales1):
    return Api(sales1)


@pytest.fixture
def api_admin(admin):
    return Api(admin)


def test_lead_crud_with_the_fixed_names(api1, sales1, team1):
    response = api1.post(
        "/leads",
        {
            "company_name": "Müller Maschinenbau GmbH",
            "first_name": "Jörg",
            "last_name": "Öztürk",
            "email": "J.Oeztuerk@Mueller.de",
            "phone": "030 1234567",
            "status": "contacted",
            "source": "web",
            "postal_code": "10117",
            "city": "Berlin",
            "country": "DE",
            "estimated_value": "1.250,00",
        },
    )
    assert response.status_code == 201, response.content
    lead = response.json()
    assert lead["company_name"] == "Müller Maschinenbau GmbH"
    assert (lead["first_name"], lead["last_name"], lead["status"]) == (
        "Jörg",
        "Öztürk",
        "contacted",
    )
    assert lead["email"] == "j.oeztuerk@mueller.de"
    assert (lead["phone"], lead["phone_display"]) == ("+49301234567", "030 1234567")
    assert lead["estimated_value"] == "1250.00"
    assert (lead["owner_id"], lead["team_id"], lead["version"]) == (sales1.pk, team1.pk, 1)
    assert lead["converted_account_id"] is None
    pk = lead["id"]
    assert api1.get(f"/leads/{pk}").json() == lead

    response = api1.patch(f"/leads/{pk}", {"status": "qualified", "version": 1})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["version"]) == ("qualified", 2)
    error = assert_error(api1.patch(f"/leads/{pk}", {"city": "Köln", "version": 1}), 409)
    assert error["code"] == "conflict" and error["current_version"] == 2
    assert api1.patch(f"/leads/{pk}", {"city": "Köln"}, HTTP_IF_MATCH='"1"').status_code == 409
    assert api1.patch(f"/leads/{pk}", {"city": "Köln"}, HTTP_IF_MATCH='"2"').status_code == 200

    history = api1.get(f"/leads/{pk}/history").json()
    assert [h["action"] for h in history] == ["update", "update", "create"]
    assert history[1]["changes"]["status"] == ["contacted", "qualified"]

    assert api1.delete(f"/leads/{pk}").status_code == 204
    assert_error(api1.get(f"/leads/{pk}"), 404, "not_found")
    assert api1.get(f"/leads/{pk}/history").status_code == 200
    response = api1.post(f"/leads/{pk}/restore")
    assert response.status_code == 200 and response.json()["deleted_at"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"last_name": "X", "email": "kaputt"}, "email"),
        ({"last_name": "X", "phone": "123"}, "phone"),
        ({"last_name": "X", "status": "disqualified"}, "disqualify_reason"),
        ({"last_name": "X", "status": "converted"}, "status"),
        ({"last_name": "X", "source": "ufo"}, "source"),
        ({"last_name": "X" * 101}, "last_name"),
        ({"last_name": "X", "estimated_value": "-1"}, "estimated_value"),
        ({"last_name": "X", "role": "admin"}, "role"),
        ({"last_name": "X", "id": 5}, "id"),
        ({"last_name": "X", "version": 3}, "version"),
        ({"last_name": "X", "custom": {"nope": "1"}}, "custom.nope"),
        ({}, "last_name"),
        ({"last_name": 5}, "last_name"),
    ],
)
def test_bad_input_is_422_at_the_field(api1, body, field):
    error = assert_error(api1.post("/leads", body), 422, "validation_error")
    assert field in error["fields"], error
    assert Lead.objects.count() == 0


def test_malformed_json_and_no_token():
    assert_error(Client().get("/api/v1/leads"), 401, "unauthorized")


def test_bad_json_is_400(api1):
    response = api1.client.post("/api/v1/leads", "{nope", content_type="application/json")
    assert_error(response, 400)


def test_read_only_and_scoped_tokens(reader, sales1):
    assert_error(Api(reader).post("/leads", {"last_name": "X"}), 403, "forbidden")
    limited = Api(sales1, lead="read")
    assert limited.get("/leads").status_code == 200
    assert_error(limited.post("/leads", {"last_name": "X"}), 403)
    assert_error(Api(sales1, contact="write").get("/leads"), 403)


def test_list_filters_sorting_and_pages(api1, sales1, sales2, team1):
    old = make_lead(sales1, company_name="Alpha GmbH", last_name="Zander", source="fair",
                    country="DE", postal_code="80331", industry_code="62.01")  # fmt: skip
    Lead.objects.filter(pk=old.pk).update(created_at="2024-01-15T10:00:00Z")
    make_lead(sales1, company_name="Beta AG", last_name="Adler", status="qualified",
              email="adler@beta.de", country="AT", postal_code="1010")  # fmt: skip
    make_lead(sales1, company_name="Gamma KG", last_name="Meier", status="contacted")
    make_lead(sales2, company_name="Fremd GmbH", last_name="Fremd")

    def names(**params):
        response = api1.get("/leads", params)
        assert response.status_code == 200, response.content
        return [lead["last_name"] for lead in response.json()["items"]]

    assert set(names()) == {"Zander", "Adler", "Meier"}
    assert names(sort="name") == ["Adler", "Meier", "Zander"]
    assert names(sort="-company") == ["Meier", "Adler", "Zander"]
    assert names(sort="created")[0] == "Zander"
    assert names(q="beta") == ["Adler"]
    assert names(q="adler@beta") == ["Adler"]
    assert names(status="qualified,contacted", sort="name") == ["Adler", "Meier"]
    assert names(source="fair") == ["Zander"]
    assert names(owner=sales1.pk, sort="name") == ["Adler", "Meier", "Zander"]
    assert names(team=team1.pk, sort="name") == ["Adler", "Meier", "Zander"]
    assert names(created_to="2024-01-31") == ["Zander"]
    assert "Zander" not in names(created_from="2024-02-01")
    assert names(country="at") == ["Adler"]
    assert names(postal_code_from="8", postal_code_to="9") == ["Zander"]
    assert names(postal_code="803") == ["Zander"]
    assert names(industry="62") == ["Zander"]

    first = api1.get("/leads", {"sort": "name", "limit": 2}).json()
    assert [lead["last_name"] for lead in first["items"]] == ["Adler", "Meier"]
    second = api1.get("/leads", {"sort": "name", "limit": 2, "cursor": first["next_cursor"]})
    assert [lead["last_name"] for lead in second.json()["items"]] == ["Zander"]
    assert second.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"statuz": "new"}, "statuz"),
        ({"status": "won"}, "status"),
        ({"sort": "salary"}, "sort"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1000"}, "limit"),
        ({"cursor": "!!!"}, "cursor"),
        ({"owner": "me"}, "owner"),
        ({"created_from": "gestern"}, "created_from"),
        ({"cf_nope": "1"}, "cf_nope"),
    ],
)
def test_bad_filters_are_422(api1, params, field):
    error = assert_error(api1.get("/leads", params), 422)
    assert field in error["fields"]


def test_list_query_count_is_constant(api1, sales1, django_assert_max_num_queries):
    for i in range(60):
        make_lead(sales1, company_name=f"Firma {i}", last_name=f"Lead{i:02}",
                  email=f"l{i}@example.de", phone=f"+49 30 1234{i:03}")  # fmt: skip
    with django_assert_max_num_queries(8):
        response = api1.get("/leads", {"limit": 50})
    assert response.status_code == 200
    assert len(response.json()["items"]) == 50


def test_other_teams_leads_are_404(api1, sales2):
    lead = make_lead(sales2)
    for response in (
        api1.get(f"/leads/{lead.pk}"),
        api1.patch(f"/leads/{lead.pk}", {"city": "X"}),
        api1.delete(f"/leads/{lead.pk}"),
        api1.get(f"/leads/{lead.pk}/duplicates"),
        api1.post(f"/leads/{lead.pk}/convert", {}),
    ):
        assert_error(response, 404, "not_found")


# --- conversion -----------------------------------------------------------------------------


def test_convert_answers_the_new_ids(api1, sales1):
    lead = make_lead(sales1, company_name="Neu GmbH", first_name="Nora", last_name="Neu")
    response = api1.post(
        f"/leads/{lead.pk}/convert",
        {
            "opportunity": {
                "name": "Erstauftrag",
                "amount": "5000",
                "expected_close_date": "2031-01-31",
            }
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"lead_id", "status", "account_id", "contact_id", "opportunity_id"}
    assert body["status"] == "converted"
    assert Account.objects.get(pk=body["account_id"]).name == "Neu GmbH"
    lead_json = api1.get(f"/leads/{lead.pk}").json()
    assert lead_json["converted_contact_id"] == body["contact_id"]
    assert lead_json["converted_opportunity_id"] == body["opportunity_id"]

    error = assert_error(api1.post(f"/leads/{lead.pk}/convert", {}), 422)
    assert "converted already" in error["fields"]["status"][0]


def test_convert_without_opportunity_answers_null(api1, sales1):
    lead = make_lead(sales1, company_name="Ohne GmbH", last_name="Ohne")
    body = api1.post(f"/leads/{lead.pk}/convert", {}).json()
    assert body["opportunity_id"] is None and body["contact_id"]


def test_duplicates_and_the_422_listing_the_candidates(api1, sales1):
    mueller = make_account(sales1, name="Müller Maschinenbau GmbH")
    dup = make_contact(sales1, last_name="Dup", emails=[{"address": "dup@mueller.de"}])
    lead = make_lead(sales1, company_name="Mueller Maschinenbau", last_name="Dup",
                     email="DUP@mueller.de")  # fmt: skip
    found = api1.get(f"/leads/{lead.pk}/duplicates").json()
    assert found["accounts"][0]["id"] == mueller.pk
    assert found["accounts"][0]["customer_number"] == mueller.customer_number
    assert [c["id"] for c in found["contacts"]] == [dup.pk]

    error = assert_error(api1.post(f"/leads/{lead.pk}/convert", {}), 422, "validation_error")
    assert set(error["fields"]) == {"account_id", "contact_id"}
    assert [c["id"] for c in error["candidates"]["accounts"]] == [mueller.pk]
    assert [c["id"] for c in error["candidates"]["contacts"]] == [dup.pk]
    assert Lead.objects.get(pk=lead.pk).status == "new"

    response = api1.post(
        f"/leads/{lead.pk}/convert", {"account_id": mueller.pk, "contact_id": dup.pk}
    )
    assert response.status_code == 200, response.content
    assert (response.json()["account_id"], response.json()["contact_id"]) == (mueller.pk, dup.pk)


def test_convert_errors(api1, sales1, sales2):
    foreign = make_account(sales2, name="Fremd AG")
    lead = make_lead(sales1, company_name="Meins AG", last_name="Meins")
    error = assert_error(api1.post(f"/leads/{lead.pk}/convert", {"account_id": foreign.pk}), 422)
    assert error["fields"] == {"account_id": ["Select an account you can see."]}
    error = assert_error(api1.post(f"/leads/{lead.pk}/convert", {"stage_id": 1}), 422)
    assert "stage_id" in error["fields"]
    error = assert_error(
        api1.post(f"/leads/{lead.pk}/convert", {"opportunity": {"amount": "-3"}}), 422
    )
    assert "opportunity.amount" in error["fields"]
    error = assert_error(
        api1.post(f"/leads/{lead.pk}/convert", {"opportunity": {"expected_close_date": "morgen"}}),
        422,
    )
    assert "opportunity.expected_close_date" in error["fields"]
    assert_error(api1.post(f"/leads/{lead.pk}/convert", {"version": 7}), 409)
    disqualified = make_lead(sales1, company_name="Nein", status="disqualified",
                             disqualify_reason="Zu klein")  # fmt: skip
    error = assert_error(api1.post(f"/leads/{disqualified.pk}/convert", {}), 422)
    assert "status" in error["fields"]
    assert Account.objects.count() == 1


# --- import and export ----------------------------------------------------------------------


def test_export_the_filtered_list_and_import_it_back(api1, sales1):
    make_lead(sales1, company_name="Café Øresund ApS", first_name="Søren", last_name="Ærø",
              status="qualified", phone="+45 32 12 34 56", country="DK")  # fmt: skip
    make_lead(sales1, company_name="Andere GmbH", last_name="Anders", status="new")
    response = api1.get("/leads/export", {"status": "qualified"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["company_name"], r["last_name"], r["phone"]) for r in rows] == [
        ("Café Øresund ApS", "Ærø", "+4532123456")
    ]
    rows[0]["city"] = "København"
    rows.append({**{k: "" for k in rows[0]}, "company_name": "Neu & Co", "last_name": "Neu"})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    upload = SimpleUploadedFile("leads.csv", out.getvalue().encode(), "text/csv")
    response = api1.client.post("/api/v1/leads/import?dry_run=true", {"file": upload})
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 1, "updated": 1, "dry_run": True, "ignored_columns": []}
    assert Lead.objects.count() == 2
    upload.seek(0)
    response = api1.client.post("/api/v1/leads/import", {"file": upload})
    assert response.json()["created"] == 1
    assert Lead.objects.get(last_name="Ærø").city == "København"
    xlsx = api1.get("/leads/export", {"format": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    assert_error(api1.get("/leads/export", {"format": "pdf"}), 422)
    assert_error(api1.get("/leads/export", {"statuz": "x"}), 422)


def test_an_import_with_errors_saves_nothing_and_names_row_and_column(api1, sales1):
    content = (
        "Firma;Vorname;Nachname;E-Mail;Telefon;Status;Quelle\n"
        "Gut GmbH;Anna;Gut;anna@gut.de;030 1234567;neu;Messe\n"
        "Schlecht AG;Bernd;;kaputt;12;verloren;Messe\n"
        "Auch Gut KG;Carla;Gut;carla@gut.de;;qualified;web\n"
    ).encode("cp1252")
    response = api1.client.post(
        "/api/v1/leads/import", {"file": SimpleUploadedFile("l.csv", content, "text/csv")}
    )
    error = assert_error(response, 422, "validation_error")
    assert set(error["fields"]) == {"rows.3.email", "rows.3.phone", "rows.3.status"}
    assert Lead.objects.count() == 0
    ok = content.replace(b"Schlecht AG;Bernd;;kaputt;12;verloren;Messe\n", b"")
    response = api1.client.post(
        "/api/v1/leads/import", {"file": SimpleUploadedFile("l.csv", ok, "text/csv")}
    )
    assert response.json()["created"] == 2
    assert set(Lead.objects.values_list("status", "source")) == {("new", "fair"),
                                                                 ("qualified", "web")}  # fmt: skip


def test_import_file_problems(api1):
    for name, content in (("e.csv", b""), ("x.xlsx", b"PK\x03\x04broken"),
                          ("h.csv", b"colour,size\nred,5\n")):  # fmt: skip
        response = api1.client.post(
            "/api/v1/leads/import", {"file": SimpleUploadedFile(name, content, "text/csv")}
        )
        assert "file" in assert_error(response, 422)["fields"]


# --- assignment rules -----------------------------------------------------------------------


def test_assignment_rules_api(api_admin, admin, sales1):
    team = TeamFactory(name="Runde")
    members = [make_user("sales", team) for _ in range(2)]
    response = api_admin.post(
        "/lead-assignment-rules",
        {"name": "Alle", "method": "round_robin", "team_id": team.pk, "countries": ["de"],
         "sources": ["web"]},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    rule = response.json()
    assert (rule["countries"], rule["sources"], rule["active"]) == (["DE"], ["web"], True)
    assert api_admin.get("/lead-assignment-rules").json() == [rule]
    lead = Api(sales1).post("/leads", {"last_name": "Web", "source": "web", "country": "DE"})
    assert lead.json()["owner_id"] == members[0].pk and lead.json()["team_id"] == team.pk
    response = api_admin.patch(f"/lead-assignment-rules/{rule['id']}", {"active": False})
    assert response.json()["active"] is False
    error = assert_error(
        api_admin.patch(f"/lead-assignment-rules/{rule['id']}", {"method": "dice"}), 422
    )
    assert "method" in error["fields"]
    assert_error(api_admin.post("/lead-assignment-rules", {"name": "x"}), 422)
    assert api_admin.delete(f"/lead-assignment-rules/{rule['id']}").status_code == 204
    assert_error(api_admin.get(f"/lead-assignment-rules/{rule['id']}"), 404)
    assert AssignmentRule.objects.count() == 0


def test_assignment_rules_are_for_sales_administrators(sales1, team1):
    api = Api(sales1)
    assert_error(api.get("/lead-assignment-rules"), 403, "forbidden")
    assert_error(
        api.post("/lead-assignment-rules", {"name": "x", "method": "territory",
                                            "team_id": team1.pk}),
        403,
    )  # fmt: skip
