"""Browser journeys: Playwright drives Debian's Chromium against Django's live server."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.e2e.sessions import sign_in

# Playwright's sync API runs an event loop in this thread; the ORM calls in the tests are
# still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("FARLEY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}; `make test` installs Debian's chromium package."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    yield page
    context.close()


def _restore_reference_data() -> None:
    """Transactional tests flush every table, also the roles, relationship types, the default
    pipeline and loss reasons that the migrations create; put them back."""
    import importlib

    from django.apps import apps

    from farley.core.permissions import ensure_built_in_roles

    ensure_built_in_roles()
    importlib.import_module("farley.contacts.migrations.0003_relationship_types").create_types(
        apps, None
    )
    importlib.import_module("farley.sales.migrations.0002_default_pipeline").create_defaults(
        apps, None
    )


@pytest.fixture
def admin_login(page, django_user_model):
    from farley.core.services import user_create

    _restore_reference_data()
    password = "Correct-Horse-Battery-9"
    user = user_create(
        actor=None,
        email="anna@example.com",
        password=password,
        role="administrator",
        full_name="Anna Admin",
        team_names=["Vertrieb"],
    )
    sign_in(page, user.email, password)
    return user
