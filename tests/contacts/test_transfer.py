"""Import and export of accounts and contacts as CSV and Excel files: what users see in the
files, the round trip export -> edit -> import, German spreadsheets, bad files (all or
nothing), the upload/preview/confirm pages and the REST endpoints."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from farley.contacts import transfer
from farley.contacts.models import Account, Contact
from farley.core.models import ChangeRecord
from farley.core.services import custom_field_create, token_create, user_update
from tests.factories import make_account, make_contact, make_user

pytestmark = pytest.mark.django_db

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- helpers --------------------------------------------------------------------------------


class Api:
    """/api/v1 with a bearer token of ``user`` (or none)."""

    def __init__(self, user=None):
        headers = {}
        if user is not None:
            key = token_create(user=user, name="transfer tests")[1]
            headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        self.client = Client(SERVER_NAME="127.0.0.1", **headers)

    def export(self, entity="contact", **params):
        return self.client.get(f"/api/v1/{entity}s/export", params)

    def import_(self, content, *, entity="contact", name=None, dry_run=None):
        name = name or f"{entity}s.csv"
        query = "" if dry_run is None else f"?dry_run={'true' if dry_run else 'false'}"
        upload = io.BytesIO(content)
        upload.name = name
        return self.client.post(f"/api/v1/{entity}s/import{query}", {"file": upload})


def csv_file(rows, *, delimiter=",", encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_file(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def body(response) -> bytes:
    """The whole file (a streamed CSV can be read only once, so keep it)."""
    if not hasattr(response, "_test_body"):
        response._test_body = response.getvalue()
    return response._test_body


def csv_table(response) -> list[dict[str, str]]:
    """The rows of an exported CSV as dicts (asserts the BOM)."""
    raw = body(response)
    assert raw.startswith(b"\xef\xbb\xbf"), raw[:20]
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))


def csv_header(response) -> list[str]:
    return next(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))


def xlsx_table(content: bytes) -> list[list]:
    workbook = load_workbook(io.BytesIO(content))
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


def rows_as_csv(table: list[dict[str, str]]) -> bytes:
    """An edited export written back as CSV (UTF-8 with BOM, like the export)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(table[0]))
    writer.writeheader()
    writer.writerows(table)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert {"code", "message", "fields"} <= set(error)
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


def counts():
    return Account.objects.count(), Contact.objects.count(), ChangeRecord.objects.count()


def updates_of(record) -> list[ChangeRecord]:
    entity = "account" if isinstance(record, Account) else "contact"
    return list(ChangeRecord.objects.filter(entity=entity, object_id=record.pk, action="update"))


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    """The import pages park uploads under VAR_DIR; keep the real one clean."""
    settings.VAR_DIR = tmp_path


@pytest.fixture
def api1(sales1):
    return Api(sales1)


@pytest.fixture
def web1(client, sales1):
    client.force_login(sales1)
    return client


# --- export ---------------------------------------------------------------------------------


def test_csv_export_has_bom_key_header_and_one_row_per_visible_record(web1, sales1, sales2):
    mine = [make_contact(sales1, first_name="Anna", last_name=f"Adler{i}") for i in range(3)]
    make_contact(sales2, last_name="Fremd")
    trashed = make_contact(sales1, last_name="Papierkorb")
    trashed.deleted_at = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    trashed.save()

    response = web1.get("/contacts/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert ".csv" in response["Content-Disposition"]
    assert csv_header(response) == [c.key for c in transfer.columns_for("contact")]
    table = csv_table(response)
    assert sorted(int(r["id"]) for r in table) == sorted(c.pk for c in mine)
    assert {r["last_name"] for r in table} == {"Adler0", "Adler1", "Adler2"}
    assert all(r["owner"] == sales1.email and r["team"] == "Vertrieb Nord" for r in table)


def test_export_respects_the_list_filters(web1, api1, sales1, berlin):
    hamburg = {**berlin, "city": "Hamburg", "postal_code": "20095"}
    vip_berlin = make_contact(sales1, last_name="A", addresses=[berlin], tags=["VIP"])
    make_contact(sales1, last_name="B", addresses=[berlin])
    vip_hamburg = make_contact(sales1, last_name="C", addresses=[hamburg], tags=["VIP", "Messe"])

    def ids(response):
        return {int(r["id"]) for r in csv_table(response)}

    assert ids(web1.get("/contacts/export.csv", {"city": "Hamburg"})) == {vip_hamburg.pk}
    assert ids(web1.get("/contacts/export.csv", {"tag": "vip"})) == {vip_berlin.pk, vip_hamburg.pk}
    assert ids(web1.get("/contacts/export.csv", {"tag": "VIP", "city": "berlin"})) == {
        vip_berlin.pk
    }
    # The list's paging and column choice do not cut the export.
    assert len(ids(web1.get("/contacts/export.csv", {"limit": "1", "columns": "city"}))) == 3
    # The API takes the same filters.
    assert ids(api1.export(city="Hamburg")) == {vip_hamburg.pk}
    assert ids(api1.export(tag="Messe", format="csv")) == {vip_hamburg.pk}


def test_export_with_a_bad_filter_is_refused(web1, api1):
    response = web1.get("/contacts/export.csv", {"status": "nonsense"})
    assert response.status_code == 302
    assert response["Location"] == "/contacts/"
    error = assert_error(api1.export(status="nonsense"), 422, "validation_error")
    assert "status" in error["fields"]


def test_export_shows_only_the_records_the_user_may_see(client, admin, sales1, sales2):
    ours = make_contact(sales1, last_name="Nordmann")
    theirs = make_contact(sales2, last_name="Südmann")
    account = make_account(sales1, name="Nord GmbH")

    client.force_login(sales2)
    contacts = csv_table(client.get("/contacts/export.csv"))
    assert [r["last_name"] for r in contacts] == ["Südmann"]
    assert csv_table(client.get("/accounts/export.csv")) == []
    assert [int(r["id"]) for r in csv_table(Api(sales2).export())] == [theirs.pk]

    client.force_login(admin)
    everything = csv_table(client.get("/contacts/export.csv"))
    assert {int(r["id"]) for r in everything} == {ours.pk, theirs.pk}
    assert [r["name"] for r in csv_table(client.get("/accounts/export.csv"))] == [account.name]


def test_custom_fields_are_exported_as_cf_columns(web1, admin, sales1):
    for key, label, field_type, extra in (
        ("hobby", "Hobby", "text", {}),
        ("kanal", "Kanäle", "multi_choice", {"choices": ["Post", "Fax", "Mail"]}),
        ("newsletter", "Newsletter", "boolean", {}),
        ("seit", "Kunde seit", "date", {}),
        ("rabatt", "Rabatt", "decimal", {}),
    ):
        custom_field_create(
            actor=admin,
            data={"entity": "contact", "key": key, "label": label, "field_type": field_type}
            | extra,
        )
    custom_field_create(
        actor=admin,
        data={"entity": "account", "key": "branche", "label": "Branche", "field_type": "text"},
    )
    make_contact(
        sales1,
        last_name="Kunz",
        custom={
            "hobby": "Segeln",
            "kanal": ["Fax", "Post"],
            "newsletter": True,
            "seit": "2019-05-01",
            "rabatt": "2.5",
        },
    )
    response = web1.get("/contacts/export.csv")
    header = csv_header(response)
    assert header[-5:] == ["cf_hobby", "cf_kanal", "cf_newsletter", "cf_seit", "cf_rabatt"]
    assert "cf_branche" not in header
    (row,) = csv_table(response)
    assert row["cf_hobby"] == "Segeln"
    assert row["cf_kanal"] == "Post; Fax"
    assert row["cf_newsletter"] == "true"
    assert row["cf_seit"] == "2019-05-01"
    assert Decimal(row["cf_rabatt"]) == Decimal("2.5")
    assert csv_header(web1.get("/accounts/export.csv"))[-1] == "cf_branche"


def test_xlsx_export_opens_with_the_same_header_and_values(web1, api1, sales1, berlin):
    firm = make_account(sales1, name="Müller Maschinenbau GmbH")
    contact = make_contact(
        sales1,
        first_name="Jürgen",
        last_name="Müller",
        birthday="1980-02-29",
        emails=[{"address": "j.mueller@example.de"}],
        addresses=[berlin],
        account_links=[{"account_id": firm.pk, "role": "Einkauf"}],
    )
    response = web1.get("/contacts/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_TYPE
    assert ".xlsx" in response["Content-Disposition"]
    header, *rows = xlsx_table(response.content)
    assert header == csv_header(web1.get("/contacts/export.csv"))
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["id"] == contact.pk
    assert row["last_name"] == "Müller"
    assert row["email"] == "j.mueller@example.de"
    assert row["postal_code"] == "10117"  # stays text: no lost leading zeros
    assert row["birthday"].date() == dt.date(1980, 2, 29)
    assert row["account"] == "Müller Maschinenbau GmbH"
    assert row["account_number"] == firm.customer_number
    assert row["account_role"] == "Einkauf"

    api = api1.export(format="xlsx")
    assert api.status_code == 200
    assert api["Content-Type"] == XLSX_TYPE
    assert xlsx_table(api.content)[0] == header


UNICODE_NAMES = [("Jürgen", "Müller"), ("Søren", "Øster"), ("小龙", "李"), ("Zoë 🎉", "Ñandú 👩‍💻")]


def test_unicode_survives_export_and_reimport_exactly(web1, api1, sales1):
    made = [make_contact(sales1, first_name=f, last_name=n) for f, n in UNICODE_NAMES]
    table = csv_table(web1.get("/contacts/export.csv"))
    assert {(r["first_name"], r["last_name"]) for r in table} == set(UNICODE_NAMES)

    header, *rows = xlsx_table(web1.get("/contacts/export.xlsx").content)
    first, last = header.index("first_name"), header.index("last_name")
    assert {(r[first], r[last]) for r in rows} == set(UNICODE_NAMES)

    for content, name in ((rows_as_csv(table), "c.csv"), (xlsx_file([header, *rows]), "c.xlsx")):
        response = api1.import_(content, name=name)
        assert response.status_code == 200, response.content
        assert response.json()["updated"] == 4
    for contact in made:
        before = (contact.first_name, contact.last_name)
        contact.refresh_from_db()
        assert (contact.first_name, contact.last_name) == before
    assert Contact.objects.count() == 4


def test_formulas_are_defused_but_phone_numbers_are_not(web1, api1, sales1):
    contact = make_contact(
        sales1,
        last_name="Formel",
        job_title='=HYPERLINK("http://evil.example","klick")',
        department="@SUM(A1:A9)",
        description="-Rabatt",
        phones=[{"number": "+49 30 1234567"}],
    )
    (row,) = csv_table(web1.get("/contacts/export.csv"))
    assert row["job_title"] == '\'=HYPERLINK("http://evil.example","klick")'
    assert row["department"] == "'@SUM(A1:A9)"
    assert row["description"] == "'-Rabatt"
    assert row["phone"] == "+49301234567"

    header, values = xlsx_table(web1.get("/contacts/export.xlsx").content)
    cells = dict(zip(header, values, strict=True))
    assert cells["job_title"].startswith("'=")
    assert cells["phone"] == "+49301234567"

    # Importing the file again removes the apostrophes: the data is unchanged.
    response = api1.import_(rows_as_csv([row]))
    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert contact.job_title == '=HYPERLINK("http://evil.example","klick")'
    assert contact.department == "@SUM(A1:A9)"
    assert contact.description == "-Rabatt"
    assert updates_of(contact) == []


def test_a_formula_starting_with_minus_and_a_digit_is_defused(web1, sales1):
    make_contact(sales1, last_name="Formel", description="-2+3+cmd|' /C calc'!A0")
    (row,) = csv_table(web1.get("/contacts/export.csv"))
    assert row["description"] == "'-2+3+cmd|' /C calc'!A0"


def test_xlsx_export_of_text_with_a_control_character(web1, sales1):
    make_contact(sales1, last_name="Umbruch", description="Zeile 1\x0bZeile 2")
    response = web1.get("/contacts/export.xlsx")
    assert response.status_code == 200
    header, values = xlsx_table(response.content)
    assert dict(zip(header, values, strict=True))["last_name"] == "Umbruch"


def test_export_query_count_does_not_grow_with_the_number_of_records(client, admin, sales1):
    firm = make_account(sales1, name="Kette GmbH")
    custom_field_create(
        actor=admin,
        data={"entity": "contact", "key": "hobby", "label": "Hobby", "field_type": "text"},
    )

    def add(n):
        for i in range(n):
            make_contact(
                sales1,
                last_name=f"Massen{Contact.objects.count()}",
                emails=[{"address": f"m{Contact.objects.count()}-{i}@example.de"}],
                addresses=[{"city": "Köln", "postal_code": "50667"}],
                tags=["Serie"],
                account_links=[{"account_id": firm.pk}],
                custom={"hobby": "Lesen"},
            )

    client.force_login(sales1)
    client.get("/")  # the session's first request notes it in the session list

    def queries(fmt):
        with CaptureQueriesContext(connection) as context:
            response = client.get(f"/contacts/export.{fmt}")
            content = body(response)
        assert response.status_code == 200
        return len(context.captured_queries), content

    add(5)
    small = {fmt: queries(fmt) for fmt in ("csv", "xlsx")}
    add(35)
    large = {fmt: queries(fmt) for fmt in ("csv", "xlsx")}
    assert large["csv"][1].count(b"Massen") == 40
    for fmt in ("csv", "xlsx"):
        assert large[fmt][0] == small[fmt][0], fmt


# --- round trip -----------------------------------------------------------------------------


def test_edit_a_cell_of_an_export_and_import_it_updates_that_record(web1, api1, sales1, berlin):
    firm = make_account(sales1, name="Rundreise AG")
    anna = make_contact(
        sales1,
        salutation="ms",
        academic_title="Dr.",
        first_name="Anna",
        last_name="Alt",
        birthday="1975-06-30",
        language="de",
        preferred_channel="phone",
        emails=[{"address": "anna@example.de", "kind": "private"}],
        phones=[{"number": "+49 30 1234567", "kind": "mobile"}],
        addresses=[berlin],
        account_links=[{"account_id": firm.pk, "role": "CEO"}],
        tags=["VIP", "Messe"],
    )
    bernd = make_contact(sales1, first_name="Bernd", last_name="Bleibt")
    versions = {anna.pk: anna.version, bernd.pk: bernd.version}
    before = counts()

    table = csv_table(web1.get("/contacts/export.csv"))
    for row in table:
        if row["id"] == str(anna.pk):
            row["last_name"] = "Neu"
    response = api1.import_(rows_as_csv(table))
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 0, "updated": 2, "dry_run": False, "ignored_columns": []}

    assert Contact.objects.count() == before[1]
    anna.refresh_from_db()
    assert anna.last_name == "Neu"
    assert anna.version == versions[anna.pk] + 1
    (change,) = updates_of(anna)
    assert change.changes == {"last_name": ["Alt", "Neu"]}
    assert change.actor == sales1
    # Everything else of the record is as it was.
    assert anna.salutation == "ms" and anna.academic_title == "Dr."
    assert anna.birthday == dt.date(1975, 6, 30)
    assert [(e.address, e.kind) for e in anna.emails.all()] == [("anna@example.de", "private")]
    assert [(p.number, p.kind) for p in anna.phones.all()] == [("+49301234567", "mobile")]
    assert [(a.city, a.street) for a in anna.addresses.all()] == [("Berlin", "Unter den Linden")]
    assert [(link.account_id, link.role) for link in anna.account_links.all()] == [(firm.pk, "CEO")]
    assert sorted(t.name for t in anna.tags.all()) == ["Messe", "VIP"]
    # The unchanged row changed nothing.
    bernd.refresh_from_db()
    assert bernd.version == versions[bernd.pk]
    assert updates_of(bernd) == []


def test_reimporting_an_unchanged_export_changes_nothing(web1, api1, admin, sales1, berlin):
    custom_field_create(
        actor=admin,
        data={
            "entity": "contact",
            "key": "kanal",
            "label": "Kanäle",
            "field_type": "multi_choice",
            "choices": ["Post", "Fax"],
        },
    )
    custom_field_create(
        actor=admin,
        data={"entity": "contact", "key": "rabatt", "label": "Rabatt", "field_type": "decimal"},
    )
    make_contact(
        sales1,
        salutation="mr",
        first_name="Voll",
        last_name="Ständig",
        birthday="1980-02-29",
        emails=[{"address": "a@example.de"}, {"address": "b@example.de", "kind": "private"}],
        phones=[{"number": "+49 30 1234567"}, {"number": "+49 171 1234567", "kind": "mobile"}],
        addresses=[berlin, {"city": "Hamburg", "postal_code": "20095", "kind": "private"}],
        tags=["Eins", "Zwei"],
        custom={"kanal": ["Post", "Fax"], "rabatt": "2.5"},
    )
    make_contact(sales1, last_name="Leer")
    history = ChangeRecord.objects.count()
    snapshot = {c.pk: c.version for c in Contact.objects.all()}

    for fmt in ("csv", "xlsx"):
        content = body(web1.get(f"/contacts/export.{fmt}"))
        response = api1.import_(content, name=f"contacts.{fmt}")
        assert response.status_code == 200, (fmt, response.content)
        assert response.json()["updated"] == 2
    assert ChangeRecord.objects.count() == history
    assert {c.pk: c.version for c in Contact.objects.all()} == snapshot


def test_reimport_keeps_the_extra_line_of_the_first_address(web1, api1, sales1, berlin):
    contact = make_contact(sales1, last_name="Hinterhaus", addresses=[{**berlin, "extra": "c/o X"}])
    response = api1.import_(body(web1.get("/contacts/export.csv")))
    assert response.status_code == 200, response.content
    assert [a.extra for a in contact.addresses.all()] == ["c/o X"]
    assert updates_of(contact) == []


def test_a_row_without_id_creates_a_record(api1, sales1, team1):
    existing = make_contact(sales1, last_name="Alt")
    content = csv_file([["id", "first_name", "last_name", "email"], ["", "Nina", "Neu", "N@X.de"]])
    response = api1.import_(content)
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1
    new = Contact.objects.exclude(pk=existing.pk).get()
    assert (new.first_name, new.last_name, new.primary_email) == ("Nina", "Neu", "n@x.de")
    assert new.owner == sales1 and new.team == team1
    assert ChangeRecord.objects.filter(entity="contact", object_id=new.pk, action="create")


def test_update_from_a_file_with_fewer_columns_keeps_the_rest(api1, sales1, berlin):
    contact = make_contact(
        sales1,
        last_name="Viele",
        emails=[
            {"address": "eins@example.de"},
            {"address": "zwei@example.de", "kind": "private"},
            {"address": "drei@example.de", "kind": "other"},
        ],
        phones=[
            {"number": "+49 30 1111111"},
            {"number": "+49 30 2222222"},
            {"number": "+49 30 3333333"},
        ],
        addresses=[berlin, {"city": "Hamburg", "postal_code": "20095", "kind": "private"}],
    )
    content = csv_file(
        [["id", "email", "email_2", "city"], [contact.pk, "neu@example.de", "", "Potsdam"]]
    )
    response = api1.import_(content)
    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert [(e.address, e.kind) for e in contact.emails.all()] == [
        ("neu@example.de", "work"),
        ("drei@example.de", "other"),
    ]
    assert contact.primary_email == "neu@example.de"
    assert [p.number for p in contact.phones.all()] == [
        "+49301111111",
        "+49302222222",
        "+49303333333",
    ]
    addresses = [(a.street, a.postal_code, a.city) for a in contact.addresses.all()]
    assert addresses == [("Unter den Linden", "10117", "Potsdam"), ("", "20095", "Hamburg")]
    assert contact.last_name == "Viele"


def test_accounts_round_trip_with_parent_and_numbers(client, sales1):
    client.force_login(sales1)
    parent = make_account(sales1, name="Konzern AG")
    child = make_account(
        sales1,
        name="Tochter GmbH",
        parent_id=parent.pk,
        employees=250,
        annual_revenue="1234567.89",
        status="customer",
        website="https://tochter.example",
    )
    table = csv_table(client.get("/accounts/export.csv"))
    row = next(r for r in table if r["id"] == str(child.pk))
    assert row["parent"] == "Konzern AG"
    assert row["parent_number"] == parent.customer_number
    assert row["customer_number"] == child.customer_number
    assert (row["employees"], row["annual_revenue"], row["status"]) == (
        "250",
        "1234567.89",
        "customer",
    )
    row["employees"] = "300"
    response = Api(sales1).import_(rows_as_csv(table), entity="account")
    assert response.status_code == 200, response.content
    assert response.json()["updated"] == 2
    assert response.json()["ignored_columns"] == ["customer_number", "parent"]
    child.refresh_from_db()
    assert child.employees == 300
    assert child.parent_id == parent.pk
    assert [c.changes for c in updates_of(child)] == [{"employees": [250, 300]}]
    assert Account.objects.count() == 2


def test_an_account_whose_parent_is_in_the_trash_can_be_reimported(client, sales1):
    from farley.contacts.services import account_delete

    parent = make_account(sales1, name="Mutter AG")
    child = make_account(sales1, name="Kind GmbH", parent_id=parent.pk)
    account_delete(actor=sales1, account_id=parent.pk)
    client.force_login(sales1)
    table = csv_table(client.get("/accounts/export.csv"))
    table[0]["employees"] = "12"
    response = Api(sales1).import_(rows_as_csv(table), entity="account")
    assert response.status_code == 200, response.content
    child.refresh_from_db()
    assert (child.employees, child.parent_id) == (12, parent.pk)


def test_a_record_of_a_deactivated_owner_can_be_reimported(web1, admin, sales1, team1):
    former = make_user("sales", team1, full_name="Ehemalig")
    contact = make_contact(former, last_name="Geerbt")
    user_update(actor=admin, user_id=former.pk, data={"is_active": False})  # records stay
    table = csv_table(web1.get("/contacts/export.csv"))
    assert table[0]["owner"] == former.email
    table[0]["first_name"] = "Neu"
    response = Api(sales1).import_(rows_as_csv(table))
    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert (contact.first_name, contact.owner_id) == ("Neu", former.pk)


# --- parsing what people upload -------------------------------------------------------------


def test_german_excel_csv_with_semicolons_cp1252_and_german_labels(api1, sales1):
    content = csv_file(
        [
            ["Anrede", "Vorname", "Nachname", "E-Mail", "Straße", "Postleitzahl", "Ort",
             "Geburtstag", "Tags", "Beschreibung, intern"],
            ["Frau", "Jürgen", "Müller-Lüdenscheidt", "jm@example.de", "Königsallee 1",
             "40212", "Düsseldorf", "29.02.1980", "Messe; VIP", "a, b"],
            ["Herr", "Sören", "Weiß", "", "", "", "", "", "", ""],
        ],
        delimiter=";",
        encoding="cp1252",
    )  # fmt: skip
    assert "ü".encode("cp1252") in content and b"\xef\xbb\xbf" not in content
    response = api1.import_(content)
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    assert response.json()["ignored_columns"] == ["Beschreibung, intern"]
    jm = Contact.objects.get(last_name="Müller-Lüdenscheidt")
    assert (jm.salutation, jm.first_name, jm.birthday) == ("ms", "Jürgen", dt.date(1980, 2, 29))
    assert jm.primary_email == "jm@example.de"
    (address,) = jm.addresses.all()
    assert (address.street, address.postal_code, address.city, address.country) == (
        "Königsallee 1",
        "40212",
        "Düsseldorf",
        "DE",
    )
    assert sorted(t.name for t in jm.tags.all()) == ["Messe", "VIP"]
    weiss = Contact.objects.get(last_name="Weiß")
    assert (weiss.salutation, weiss.first_name) == ("mr", "Sören")


@pytest.mark.parametrize(
    ("salutation", "channel", "expected"),
    [("Frau", "Telefon", ("ms", "phone")), ("ms", "phone", ("ms", "phone")),
     ("MR", "E-Mail", ("mr", "email")), ("Mr", "Email", ("mr", "email"))],
)  # fmt: skip
def test_choices_by_key_or_english_or_german_label(api1, salutation, channel, expected):
    content = csv_file(
        [["last_name", "salutation", "preferred_channel"], ["W", salutation, channel]]
    )
    response = api1.import_(content)
    assert response.status_code == 200, response.content
    contact = Contact.objects.get()
    assert (contact.salutation, contact.preferred_channel) == expected


def test_account_status_by_german_label(api1):
    content = csv_file([["Name", "Status"], ["Kunde GmbH", "Kunde"], ["Partner AG", "partner"]])
    response = api1.import_(content, entity="account")
    assert response.status_code == 200, response.content
    assert dict(Account.objects.values_list("name", "status")) == {
        "Kunde GmbH": "customer",
        "Partner AG": "partner",
    }


def test_german_accounts_file_with_german_numbers(api1):
    content = csv_file(
        [
            ["Name", "Mitarbeiter", "Jahresumsatz", "Währung", "Status", "Website"],
            ["Zahlen GmbH", "1.200", "1.234.567,89", "eur", "Interessent", "zahlen.example"],
        ],
        delimiter=";",
        encoding="cp1252",
    )
    response = api1.import_(content, entity="account")
    assert response.status_code == 200, response.content
    account = Account.objects.get()
    assert account.employees == 1200
    assert account.annual_revenue == Decimal("1234567.89")
    assert (account.revenue_currency, account.status) == ("EUR", "prospect")
    assert account.website == "https://zahlen.example"


def test_an_unknown_choice_is_an_error_in_its_column(api1):
    content = csv_file([["last_name", "salutation"], ["W", "Eure Majestät"]])
    error = assert_error(api1.import_(content), 422)
    assert list(error["fields"]) == ["rows.2.salutation"]
    assert Contact.objects.count() == 0


def test_owner_by_email_and_team_by_name(admin, sales1, team1, team2):
    content = csv_file(
        [["last_name", "owner", "team"], ["Zugewiesen", sales1.email.upper(), "vertrieb süd"]]
    )
    response = Api(admin).import_(content)
    assert response.status_code == 200, response.content
    contact = Contact.objects.get()
    assert contact.owner == sales1
    assert contact.team == team2


def test_a_sales_user_cannot_import_into_a_foreign_team(api1, team2):
    content = csv_file([["last_name", "team"], ["Fremd", "Vertrieb Süd"]])
    error = assert_error(api1.import_(content), 422)
    assert list(error["fields"]) == ["rows.2.team"]
    assert Contact.objects.count() == 0


def test_contacts_are_linked_by_customer_number_or_unique_name(api1, sales1):
    alpha = make_account(sales1, name="Alpha GmbH")
    beta = make_account(sales1, name="Beta GmbH")
    content = csv_file(
        [
            ["last_name", "account", "account_number", "account_role"],
            ["PerNummer", "", alpha.customer_number.lower(), "Einkauf"],
            ["PerName", "beta gmbh", "", ""],
        ]
    )
    response = api1.import_(content)
    assert response.status_code == 200, response.content
    by_number = Contact.objects.get(last_name="PerNummer")
    assert [(link.account_id, link.role) for link in by_number.account_links.all()] == [
        (alpha.pk, "Einkauf")
    ]
    assert by_number.primary_account == alpha
    assert Contact.objects.get(last_name="PerName").primary_account == beta

    # A changed role of the same account updates the link instead of adding one.
    content = csv_file(
        [["id", "account_number", "account_role"], [by_number.pk, alpha.customer_number, "Leitung"]]
    )
    assert api1.import_(content).status_code == 200
    assert [(link.account_id, link.role) for link in by_number.account_links.all()] == [
        (alpha.pk, "Leitung")
    ]


def test_an_ambiguous_or_invisible_account_name_is_an_error(api1, sales1, sales2):
    make_account(sales1, name="Doppelt GmbH")
    make_account(sales1, name="Doppelt GmbH")
    make_account(sales2, name="Versteckt GmbH")
    content = csv_file([["last_name", "account"], ["A", "Doppelt GmbH"], ["B", "Versteckt GmbH"]])
    error = assert_error(api1.import_(content), 422)
    assert set(error["fields"]) == {"rows.2.account", "rows.3.account"}
    assert Contact.objects.count() == 0


def test_xlsx_upload_with_numbers_and_dates_in_cells(api1, sales1):
    content = xlsx_file(
        [
            ["Vorname", "Nachname", "Geburtstag", "Postleitzahl", "Ort", "Telefon", "Tags"],
            ["Hanna", "Hübsch", dt.datetime(1990, 12, 24), 80331, "München", "+49 89 1234567",
             "A;B"],
            [None, None, None, None, None, None, None],
            ["Ömer", "Öztürk", "24.12.1991", "10115", "Berlin", None, None],
        ]
    )  # fmt: skip
    response = api1.import_(content, name="Kontakte.xlsx")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    hanna = Contact.objects.get(last_name="Hübsch")
    assert hanna.birthday == dt.date(1990, 12, 24)
    assert (hanna.postal_code, hanna.city) == ("80331", "München")
    assert hanna.primary_phone == "+49891234567"
    assert sorted(t.name for t in hanna.tags.all()) == ["A", "B"]
    assert Contact.objects.get(last_name="Öztürk").birthday == dt.date(1991, 12, 24)


def test_custom_fields_are_imported_by_key_or_label(api1, admin):
    custom_field_create(
        actor=admin,
        data={
            "entity": "contact",
            "key": "newsletter",
            "label": "Newsletter",
            "label_de": "Rundbrief",
            "field_type": "boolean",
        },
    )
    custom_field_create(
        actor=admin,
        data={"entity": "contact", "key": "punkte", "label": "Punkte", "field_type": "integer"},
    )
    content = csv_file([["Nachname", "Rundbrief", "Punkte"], ["Cf", "ja", "42"]])
    response = api1.import_(content)
    assert response.status_code == 200, response.content
    assert Contact.objects.get().custom == {"newsletter": True, "punkte": 42}


# --- bad files and bad rows: an error, nothing written --------------------------------------


BAD_FILES = {
    "empty": (b"", "contacts.csv", "empty"),
    "header only": (b"last_name,first_name\r\n", "contacts.csv", "no rows"),
    "blank rows only": (b"last_name\r\n,\r\n\r\n", "contacts.csv", "no rows"),
    "too big": (b"last_name\r\n" + b"x" * (5 * 1024 * 1024), "contacts.csv", "larger than 5 MB"),
    "random bytes": (bytes(range(256)) * 8, "contacts.csv", "not a CSV"),
    "broken xlsx": (b"PK\x03\x04" + b"\x00garbage" * 50, "contacts.xlsx", "not a valid Excel"),
    "csv named xlsx": (b"last_name\r\nMeier\r\n", "contacts.xlsx", "not a valid Excel"),
    "no matching column": (b"Spalte A,Spalte B\r\n1,2\r\n", "contacts.csv", "No column"),
    "only the id column": (b"id\r\n1\r\n", "contacts.csv", "No column"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_refused_via_the_api(api1, sales1, case):
    make_contact(sales1, last_name="Bestand")
    content, name, message = BAD_FILES[case]
    before = counts()
    error = assert_error(api1.import_(content, name=name), 422, "validation_error")
    assert list(error["fields"]) == ["file"]
    assert message in error["fields"]["file"][0]
    assert counts() == before


@pytest.mark.parametrize("case", ["empty", "too big", "random bytes", "no matching column"])
def test_a_bad_file_is_refused_on_the_import_page(web1, sales1, case):
    content, name, message = BAD_FILES[case]
    before = counts()
    upload = io.BytesIO(content)
    upload.name = name
    response = web1.post("/contacts/import/", {"file": upload})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="import-errors"' in page
    assert message in page
    assert 'name="token"' not in page
    assert counts() == before


def test_a_file_with_more_than_max_rows_is_refused(api1, monkeypatch):
    monkeypatch.setattr(transfer, "MAX_ROWS", 3)
    rows = [["last_name"], *[[f"P{i}"] for i in range(4)]]
    error = assert_error(api1.import_(csv_file(rows)), 422)
    assert "more than 3 rows" in error["fields"]["file"][0]
    assert Contact.objects.count() == 0
    # Exactly MAX_ROWS is fine, and blank lines do not count.
    response = api1.import_(csv_file([*rows[:4], [""], [""]]))
    assert response.status_code == 200, response.content
    assert Contact.objects.count() == 3


def test_errors_of_all_rows_are_reported_and_nothing_is_written(api1, sales1):
    existing = make_contact(sales1, last_name="Bestand", first_name="Alt")
    before = counts()
    content = csv_file(
        [
            ["id", "first_name", "last_name", "email"],
            [existing.pk, "Geändert", "Bestand", ""],
            ["", "Ina", "Ungültig", "kein-at-zeichen"],
            ["", "Ohne", "", "ohne@example.de"],
            ["", "Gut", "Gültig", "gut@example.de"],
        ]
    )
    error = assert_error(api1.import_(content), 422, "validation_error")
    assert set(error["fields"]) == {"rows.3.email", "rows.4.last_name"}
    assert "valid email" in error["fields"]["rows.3.email"][0]
    assert "required" in error["fields"]["rows.4.last_name"][0]
    assert counts() == before
    existing.refresh_from_db()
    assert existing.first_name == "Alt"
    assert not Contact.objects.filter(last_name="Gültig").exists()


@pytest.mark.parametrize(
    ("header", "cell", "column"),
    [
        ("owner", "niemand@example.de", "owner"),
        ("account", "Gibt Es Nicht GmbH", "account"),
        ("account_number", "K999999", "account"),
        ("team", "Kein Team", "team"),
        ("birthday", "31.02.1980", "birthday"),
        ("phone", "0000", "phone"),
        ("postal_code", "1234", "postal_code"),
        ("country", "Deutschland", "country"),
    ],
)
def test_an_unknown_reference_or_bad_value_is_reported_at_its_row_and_column(
    api1, header, cell, column
):
    content = csv_file([["last_name", "city", header], ["Gut", "", ""], ["Fehler", "Wien", cell]])
    error = assert_error(api1.import_(content), 422)
    assert list(error["fields"]) == [f"rows.3.{column}"]
    assert Contact.objects.count() == 0


def test_an_id_the_user_cannot_see_is_an_error(api1, sales1, sales2):
    theirs = make_contact(sales2, last_name="Fremd")
    before = counts()
    content = csv_file([["id", "last_name"], [theirs.pk, "Gekapert"], ["abc", "Kaputt"]])
    error = assert_error(api1.import_(content), 422)
    assert set(error["fields"]) == {"rows.2.id", "rows.3.id"}
    assert counts() == before
    theirs.refresh_from_db()
    assert theirs.last_name == "Fremd"


def test_a_read_only_user_cannot_import(client, reader, sales1):
    make_contact(sales1, last_name="Bestand")
    api = Api(reader)  # making its token is a change of its own
    before = counts()
    content = csv_file([["last_name"], ["Leser"]])
    assert_error(api.import_(content), 403, "forbidden")
    client.force_login(reader)
    upload = io.BytesIO(content)
    upload.name = "c.csv"
    response = client.post("/contacts/import/", {"file": upload})
    assert response.status_code == 403
    assert counts() == before
    # Exporting is a permission of its own, which the read-only role does not have.
    assert client.get("/contacts/export.csv").status_code == 403


def test_dry_run_reports_counts_and_writes_nothing(api1, sales1):
    existing = make_contact(sales1, last_name="Bestand")
    before = counts()
    content = csv_file([["id", "last_name"], [existing.pk, "Neu"], ["", "Dazu"], ["", "Auch"]])
    response = api1.import_(content, dry_run=True)
    assert response.status_code == 200, response.content
    assert response.json() == {"created": 2, "updated": 1, "dry_run": True, "ignored_columns": []}
    assert counts() == before
    existing.refresh_from_db()
    assert existing.last_name == "Bestand"

    response = api1.import_(content, dry_run=False)
    assert response.json() == {"created": 2, "updated": 1, "dry_run": False, "ignored_columns": []}
    assert Contact.objects.count() == before[1] + 2


# --- the import page ------------------------------------------------------------------------


def _token(page: str) -> str:
    match = re.search(r'name="token" value="([0-9a-f]{32})"', page)
    assert match, page
    return match.group(1)


def test_upload_preview_and_confirm(web1, sales1):
    existing = make_contact(sales1, last_name="Bestand")
    form = web1.get("/contacts/import/")
    assert form.status_code == 200
    assert 'type="file"' in form.content.decode() and 'name="file"' in form.content.decode()

    content = csv_file(
        [["id", "last_name", "Notiz"], [existing.pk, "Geändert", "x"], ["", "Neu", "y"]]
    )
    upload = io.BytesIO(content)
    upload.name = "liste.csv"
    preview = web1.post("/contacts/import/", {"file": upload})
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "liste.csv: 1 new, 1 to update" in page
    assert 'id="ignored-columns"' in page and "Notiz" in page
    assert Contact.objects.count() == 1  # nothing written yet
    token = _token(page)

    done = web1.post("/contacts/import/", {"token": token, "filename": "liste.csv"})
    assert done.status_code == 302
    assert done["Location"] == "/contacts/"
    assert sorted(Contact.objects.values_list("last_name", flat=True)) == ["Geändert", "Neu"]
    assert "Imported: 1 new, 1 updated." in web1.get(done["Location"]).content.decode()
    # The token is used up: confirming twice does not import twice.
    again = web1.post("/contacts/import/", {"token": token, "filename": "liste.csv"})
    assert again.status_code == 422
    assert "expired" in again.content.decode()
    assert Contact.objects.count() == 2


def test_confirming_someone_elses_upload_does_not_work(client, web1, sales1, sales2):
    upload = io.BytesIO(csv_file([["last_name"], ["Nord"]]))
    upload.name = "c.csv"
    token = _token(web1.post("/contacts/import/", {"file": upload}).content.decode())
    other = Client(SERVER_NAME="127.0.0.1")
    other.force_login(sales2)
    response = other.post("/contacts/import/", {"token": token, "filename": "c.csv"})
    assert response.status_code == 422
    assert Contact.objects.count() == 0


def test_an_xlsx_upload_through_the_page(web1):
    upload = io.BytesIO(xlsx_file([["Nachname", "Vorname"], ["Xlsx", "Xaver"]]))
    upload.name = "kontakte.xlsx"
    page = web1.post("/contacts/import/", {"file": upload}).content.decode()
    token = _token(page)
    done = web1.post("/contacts/import/", {"token": token, "filename": "kontakte.xlsx"})
    assert done.status_code == 302
    assert Contact.objects.get().first_name == "Xaver"


def test_row_errors_are_listed_on_the_page_with_row_and_column(web1, sales1):
    content = csv_file([["last_name", "email"], ["Gut", ""], ["Schlecht", "nope"], ["", "a@b.de"]])
    upload = io.BytesIO(content)
    upload.name = "c.csv"
    response = web1.post("/contacts/import/", {"file": upload})
    assert response.status_code == 422
    page = response.content.decode()
    assert "2 errors; nothing was saved" in page
    assert "<td>3</td><td><code>email</code></td>" in page
    assert "<td>4</td><td><code>last_name</code></td>" in page
    assert 'name="token"' not in page
    assert Contact.objects.count() == 0


def test_accounts_import_page(client, sales1):
    client.force_login(sales1)
    assert client.get("/accounts/import/").status_code == 200
    upload = io.BytesIO(csv_file([["Name", "Website"], ["Seite GmbH", "seite.example"]]))
    upload.name = "firmen.csv"
    token = _token(client.post("/accounts/import/", {"file": upload}).content.decode())
    done = client.post("/accounts/import/", {"token": token, "filename": "firmen.csv"})
    assert done.status_code == 302
    assert done["Location"] == "/accounts/"
    assert Account.objects.get().website == "https://seite.example"


def test_the_list_pages_link_to_export_and_import(client, sales1, reader):
    client.force_login(sales1)
    page = client.get("/contacts/", {"city": "Berlin"}).content.decode()
    assert 'href="/contacts/export.csv?city=Berlin"' in page
    assert 'href="/contacts/export.xlsx?city=Berlin"' in page
    assert 'href="/contacts/import/"' in page
    accounts = client.get("/accounts/").content.decode()
    assert "/accounts/export.csv" in accounts and "/accounts/import/" in accounts

    client.force_login(reader)
    page = client.get("/contacts/").content.decode()
    assert "/contacts/export.csv" not in page
    assert "/contacts/import/" not in page
    assert "/contacts/new/" not in page


def test_an_unknown_export_format_is_not_found(web1):
    assert web1.get("/contacts/export.pdf").status_code == 404


def test_export_and_import_pages_need_a_login(client):
    for url in ("/contacts/export.csv", "/accounts/export.xlsx", "/contacts/import/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


# --- API ------------------------------------------------------------------------------------


@pytest.mark.parametrize("entity", ["contact", "account"])
def test_api_export_formats(api1, sales1, entity):
    (make_contact if entity == "contact" else make_account)(sales1)
    csv_response = api1.export(entity)
    assert csv_response.status_code == 200
    assert csv_response["Content-Type"].startswith("text/csv")
    assert csv_response["Content-Disposition"] == f'attachment; filename="{entity}s.csv"'
    assert len(csv_table(csv_response)) == 1

    xlsx_response = api1.export(entity, format="xlsx")
    assert xlsx_response.status_code == 200
    assert xlsx_response["Content-Disposition"] == f'attachment; filename="{entity}s.xlsx"'
    assert len(xlsx_table(xlsx_response.content)) == 2

    error = assert_error(api1.export(entity, format="pdf"), 422, "validation_error")
    assert "format" in error["fields"]


def test_api_import_answers_with_counts(api1, sales1):
    account = make_account(sales1, name="Api GmbH")
    response = api1.import_(
        csv_file([["id", "name", "Extra"], [account.pk, "Api AG", "x"], ["", "Neu KG", ""]]),
        entity="account",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {
        "created": 1,
        "updated": 1,
        "dry_run": False,
        "ignored_columns": ["Extra"],
    }
    assert sorted(Account.objects.values_list("name", flat=True)) == ["Api AG", "Neu KG"]


def test_api_import_errors_use_the_envelope_with_row_paths(api1):
    content = csv_file([["Name", "Mitarbeiter", "Website"], ["A", "viele", ""], ["", "", "::"]])
    error = assert_error(api1.import_(content, entity="account"), 422, "validation_error")
    assert set(error["fields"]) == {"rows.2.employees", "rows.3.name", "rows.3.website"}
    assert all(isinstance(m, list) and m for m in error["fields"].values())
    assert Account.objects.count() == 0


def test_api_import_without_a_file_is_a_422(api1):
    error = assert_error(api1.client.post("/api/v1/contacts/import", {}), 422)
    assert error["fields"]
    assert Contact.objects.count() == 0


def test_api_import_without_a_file_names_the_file_field(api1):
    error = assert_error(api1.client.post("/api/v1/contacts/import", {}), 422)
    assert list(error["fields"]) == ["file"]


def test_api_needs_a_token(sales1):
    make_contact(sales1)
    anonymous = Api()
    assert_error(anonymous.export(), 401, "unauthorized")
    assert_error(anonymous.export("account", format="xlsx"), 401, "unauthorized")
    assert_error(anonymous.import_(csv_file([["last_name"], ["X"]])), 401, "unauthorized")
    assert Contact.objects.count() == 1


def test_another_sales_user_is_told_apart(sales1):
    """Two users of the same team see and import each other's team records."""
    colleague = make_user("sales", sales1.teams.get(), full_name="Kai Kollege")
    record = make_contact(colleague, last_name="Team")
    table = csv_table(Api(sales1).export())
    assert [r["owner"] for r in table] == [colleague.email]
    table[0]["first_name"] = "Gemeinsam"
    response = Api(sales1).import_(rows_as_csv(table))
    assert response.status_code == 200, response.content
    record.refresh_from_db()
    assert record.first_name == "Gemeinsam"
    assert record.owner == colleague


def test_common_header_spellings_like_plz_and_firma_are_understood(sales1):
    account = make_account(sales1, name="Kaffeerösterei Bohne GmbH")
    table = [
        ["Vorname", "Nachname", "PLZ", "Ort", "Firma", "Handy"],
        ["Kai", "Kern", "20095", "Hamburg", account.name, "0171 1234567"],
    ]
    result = transfer.import_table(actor=sales1, entity="contact", table=table)
    assert (result.created, result.errors) == (1, [])
    contact = Contact.objects.get(last_name="Kern")
    assert contact.postal_code == "20095"
    assert contact.primary_account == account
    assert [p.kind for p in contact.phones.all()] == ["mobile"]
