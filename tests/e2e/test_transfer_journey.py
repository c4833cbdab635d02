"""Browser journey: export the contact list, correct the file, import it back."""

from __future__ import annotations

import csv
import io

from playwright.sync_api import expect

from farley.contacts.models import Contact
from tests.factories import make_contact


def test_export_edit_and_import_contacts(page, admin_login, tmp_path):
    make_contact(admin_login, first_name="Jörg", last_name="Öztürk", job_title="Einkauf")
    page.goto(page.base_url + "/contacts/")
    page.get_by_role("button", name="Import/export").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Export this list as CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["first_name"], r["last_name"]) for r in rows] == [("Jörg", "Öztürk")]

    # Change the job title, add a new person, and upload the file.
    rows[0]["job_title"] = "Einkaufsleiter"
    rows.append({**{k: "" for k in rows[0]}, "first_name": "Zoë", "last_name": "Ångström"})
    edited = io.StringIO()
    writer = csv.DictWriter(edited, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    upload = tmp_path / "contacts.csv"
    upload.write_text(edited.getvalue(), encoding="utf-8")

    page.get_by_role("button", name="Import/export").click()
    page.get_by_role("link", name="Import from a file…").click()
    page.set_input_files("#import-file", str(upload))
    page.get_by_role("button", name="Check file").click()
    expect(page.locator("#import-preview")).to_contain_text("1 new, 1 to update")
    assert Contact.objects.count() == 1  # nothing saved before confirming
    page.get_by_role("button", name="Import now").click()
    expect(page.get_by_text("Imported: 1 new, 1 updated.")).to_be_visible()
    expect(page.locator("table")).to_contain_text("Ångström")
    assert Contact.objects.get(last_name="Öztürk").job_title == "Einkaufsleiter"

    # A broken row: the error is shown at its row and column, nothing is saved.
    upload.write_text("first_name,last_name,email\nEva,,eva@@example\n", encoding="utf-8")
    page.goto(page.base_url + "/contacts/import/")
    page.set_input_files("#import-file", str(upload))
    page.get_by_role("button", name="Check file").click()
    errors = page.locator("#import-error-table")
    expect(errors).to_contain_text("last_name")
    expect(errors).to_contain_text("email")
    expect(page.get_by_role("button", name="Import now")).to_have_count(0)
    assert Contact.objects.count() == 2
