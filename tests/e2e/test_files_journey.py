"""A user attaches a contract to an account in the browser, sees a refused file's error at
the field, downloads the file, removes and restores it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.documents.conftest import pdf_bytes
from tests.factories import make_account

pytestmark = pytest.mark.django_db(transaction=True)


def test_attach_download_remove_and_restore_a_file(page, admin_login, tmp_path):
    account = make_account(admin_login, name="Dokumente GmbH")
    contract = tmp_path / "Rahmenvertrag 2026.pdf"
    contract.write_bytes(pdf_bytes())
    fake = tmp_path / "rechnung.pdf"
    fake.write_bytes(b"MZ\x90\x00 in Wahrheit ein Programm")

    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{page.base_url}/accounts/{account.pk}/")
    files = page.locator("#files")
    expect(files).to_contain_text("No files yet.")

    files.locator("#f-file").set_input_files(str(fake))
    files.get_by_role("button", name="Upload").click()
    expect(page.locator("#f-file")).to_have_class(re.compile("is-invalid"))
    expect(page.locator("#e-file")).to_contain_text("Files of this type are not accepted")

    page.locator("#f-file").set_input_files(str(contract))
    page.fill("#f-description", "unterschrieben")
    page.locator("#files").get_by_role("button", name="Upload").click()
    link = page.locator("#files").get_by_role("link", name="Rahmenvertrag 2026.pdf")
    expect(link).to_be_visible()
    expect(page.locator("#files")).to_contain_text("unterschrieben")

    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "Rahmenvertrag 2026.pdf"
    assert Path(download.path()).read_bytes() == pdf_bytes()

    page.get_by_role("button", name="Remove Rahmenvertrag 2026.pdf").click()
    expect(page.get_by_text("The file was removed from the record.")).to_be_visible()
    expect(page.locator("#files")).to_contain_text("No files yet.")
    page.locator("#files summary").click()
    page.locator("#files").get_by_role("button", name="Restore").click()
    expect(
        page.locator("#files").get_by_role("link", name="Rahmenvertrag 2026.pdf")
    ).to_be_visible()
