"""Retention policies: contacts without activity for a while are shown before anything runs,
then flagged for review or anonymised, by hand or once a day automatically; only
administrators keep them, and every change and run is in the audit log."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from farley.contacts import retention
from farley.contacts.models import Contact
from farley.core import audit
from farley.core.errors import Forbidden, ValidationFailed
from farley.core.models import ChangeAction, ChangeRecord, RetentionPolicy
from farley.core.search import search
from farley.core.services import token_create
from tests.factories import make_contact

pytestmark = pytest.mark.django_db


def _age(contact: Contact, *, months: int, interacted: bool = True) -> Contact:
    """Make the contact look as if its last activity (or its creation) was months ago."""
    then = timezone.now() - dt.timedelta(days=round(months * 30.44) + 1)
    Contact.objects.filter(pk=contact.pk).update(
        created_at=then, last_interaction_at=then if interacted else None
    )
    return Contact.objects.get(pk=contact.pk)


@pytest.fixture
def people(admin):
    """Three dormant contacts (one never contacted, one in Austria) and one active one."""
    return {
        "dormant": _age(
            make_contact(admin, last_name="Schläfer", first_name="Sieglinde"), months=30
        ),
        "never": _age(make_contact(admin, last_name="Niemals"), months=26, interacted=False),
        "austrian": _age(
            make_contact(
                admin,
                last_name="Österreicher",
                addresses=[{"postal_code": "1010", "city": "Wien", "country": "AT"}],
            ),
            months=40,
        ),
        "active": _age(make_contact(admin, last_name="Aktiv"), months=3),
    }


def _policy(admin, **data) -> RetentionPolicy:
    data.setdefault("name", "Leads ohne Aktivität")
    data.setdefault("inactive_months", 24)
    return retention.save_policy(actor=admin, data=data)


def test_the_preview_lists_the_contacts_without_activity_and_nothing_changes(admin, people):
    policy = _policy(admin, action="anonymise")
    count, sample = retention.preview(policy)
    assert count == 3
    assert {c.last_name for c in sample} == {"Schläfer", "Niemals", "Österreicher"}
    assert Contact.objects.get(pk=people["dormant"].pk).first_name == "Sieglinde"


def test_criteria_narrow_the_policy(admin, people):
    policy = _policy(admin, criteria={"country": "AT"})
    assert [c.last_name for c in retention.preview(policy)[1]] == ["Österreicher"]


def test_flagging_tags_the_contacts_once_for_review(admin, people):
    policy = _policy(admin, action="flag")
    assert retention.run(actor=admin, policy=policy) == 3
    flagged = Contact.objects.filter(tags__name=retention.FLAG_TAG)
    assert set(flagged.values_list("last_name", flat=True)) == {
        "Schläfer",
        "Niemals",
        "Österreicher",
    }
    policy.refresh_from_db()
    assert policy.last_run_count == 3 and policy.last_run_at is not None
    assert retention.preview(policy)[0] == 0, "flagged contacts are not flagged again"
    assert retention.run(actor=admin, policy=policy) == 0


def test_anonymising_erases_the_dormant_contacts_and_keeps_the_active_one(admin, people):
    policy = _policy(admin, action="anonymise", inactive_months=36)
    assert retention.run(actor=admin, policy=policy) == 1
    erased = Contact.objects.get(pk=people["austrian"].pk)
    assert "Österreicher" not in erased.full_name
    assert not erased.addresses.exists()
    assert search(admin, "Österreicher") == [] or all(
        "Österreicher" not in str(hit) for hit in search(admin, "Österreicher")
    )
    assert ChangeRecord.objects.filter(
        entity="contact", object_id=erased.pk, action=ChangeAction.ERASE
    ).exists()
    assert Contact.objects.get(pk=people["dormant"].pk).last_name == "Schläfer"
    assert retention.preview(policy)[0] == 0, "erased contacts are not erased again"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"inactive_months": 0}, "inactive_months"),
        ({"inactive_months": "zwei Jahre"}, "inactive_months"),
        ({"inactive_months": None}, "inactive_months"),
        ({"action": "delete_everything"}, "action"),
        ({"criteria": {"owner_password": "x"}}, "criteria.owner_password"),
        ({"criteria": ["AT"]}, "criteria"),
    ],
)
def test_bad_policies_are_refused_and_nothing_is_written(admin, data, field):
    good = {"name": "Aufbewahrung", "inactive_months": 24, "action": "flag"}
    with pytest.raises(ValidationFailed) as exc:
        retention.save_policy(actor=admin, data={**good, **data})
    assert field in exc.value.fields
    assert not RetentionPolicy.objects.exists()


def test_only_administrators_keep_and_run_policies(admin, manager, people):
    policy = _policy(admin)
    with pytest.raises(Forbidden):
        retention.save_policy(actor=manager, data={"name": "x", "inactive_months": 1})
    with pytest.raises(Forbidden):
        retention.run(actor=manager, policy=policy)
    assert not Contact.objects.filter(tags__name=retention.FLAG_TAG).exists()


def test_automatic_policies_run_once_a_day(admin, people):
    automatic = _policy(admin, name="automatisch", automatic=True)
    _policy(admin, name="nur von Hand")
    assert retention.run_due() == {"automatisch": 3}
    assert retention.run_due() == {}, "it ran less than a day ago"
    RetentionPolicy.objects.filter(pk=automatic.pk).update(
        last_run_at=timezone.now() - dt.timedelta(days=1, minutes=1)
    )
    assert retention.run_due() == {"automatisch": 0}


def test_changes_and_runs_are_in_the_audit_log(admin, people):
    policy = _policy(admin)
    retention.update_policy(actor=admin, policy=policy, data={"inactive_months": 36})
    retention.run(actor=admin, policy=policy)
    retention.delete_policy(actor=admin, policy=policy)
    actions = list(
        audit.audit_log(admin, kind="retention_policy")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "update", "update", "delete"]
    assert audit.kind_label("retention_policy") == "retention policy"


# --- API -----------------------------------------------------------------------------------------


def _api(user) -> Client:
    _token, key = token_create(user=user, name="api")
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def test_the_api_keeps_previews_and_runs_policies(admin, people):
    api = _api(admin)
    created = api.post(
        "/api/v1/privacy/retention-policies",
        {"name": "Inaktive Kontakte", "inactive_months": 24, "criteria": {"country": "AT"}},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    policy = created.json()
    assert policy["action"] == "flag" and policy["criteria"] == {"country": "AT"}
    url = f"/api/v1/privacy/retention-policies/{policy['id']}"
    preview = api.get(f"{url}/preview").json()
    assert preview["count"] == 1 and preview["contacts"][0]["id"] == people["austrian"].pk
    changed = api.patch(url, {"criteria": {}}, content_type="application/json")
    assert changed.json()["criteria"] == {} and changed.json()["name"] == "Inaktive Kontakte"
    assert api.post(f"{url}/run").json() == {"count": 3}
    assert [p["name"] for p in api.get("/api/v1/privacy/retention-policies").json()] == [
        "Inaktive Kontakte"
    ]
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_the_api_answers_errors_as_documented(admin, sales1, people):
    api = _api(admin)
    bad = api.post(
        "/api/v1/privacy/retention-policies",
        {"name": "", "inactive_months": -3, "action": "burn"},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert {"name", "inactive_months", "action"} <= set(bad.json()["error"]["fields"])
    unknown = api.post(
        "/api/v1/privacy/retention-policies", {"name": "x", "owner_id": 1},
        content_type="application/json",
    )  # fmt: skip
    assert unknown.status_code == 422
    assert not RetentionPolicy.objects.exists()
    assert _api(sales1).get("/api/v1/privacy/retention-policies").status_code == 403
    assert api.post("/api/v1/privacy/retention-policies/999999/run").status_code == 404


def test_the_api_keeps_the_register_of_processing(admin, sales1):
    api = _api(admin)
    rows = api.get("/api/v1/privacy/register").json()
    assert {"contact", "account"} <= {r["key"] for r in rows}
    saved = api.put(
        "/api/v1/privacy/register",
        {"entries": {"contact": {"purpose": "Kundenbetreuung", "legal_basis": "contract"}}},
        content_type="application/json",
    )
    assert saved.json() == {"changed": 1}
    row = next(r for r in api.get("/api/v1/privacy/register").json() if r["key"] == "contact")
    assert (row["purpose"], row["legal_basis"]) == ("Kundenbetreuung", "contract")
    bad = api.put(
        "/api/v1/privacy/register",
        {"entries": {"contact": {"legal_basis": "weil ich es will"}}},
        content_type="application/json",
    )
    assert bad.status_code == 422
    assert _api(sales1).get("/api/v1/privacy/register").status_code == 403


# --- pages ---------------------------------------------------------------------------------------


def test_the_settings_page_previews_runs_and_deletes(client, admin, people):
    client.force_login(admin)
    response = client.post(
        "/settings/retention/",
        {"name": "Zwei Jahre", "inactive_months": "24", "action": "flag", "criteria-country": ""},
    )
    policy = RetentionPolicy.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{policy.pk}/")
    page = client.get(f"/settings/retention/{policy.pk}/").content.decode()
    assert "3 contacts would be affected now" in page and "Schläfer" in page
    assert "Aktiv" not in page
    client.post(f"/settings/retention/{policy.pk}/", {"run": "1"})
    assert Contact.objects.filter(tags__name=retention.FLAG_TAG).count() == 3
    client.post(f"/settings/retention/{policy.pk}/", {"delete": "1"})
    assert not RetentionPolicy.objects.exists()


def test_the_form_shows_errors_at_the_fields(client, admin):
    client.force_login(admin)
    response = client.post(
        "/settings/retention/",
        {"name": "", "inactive_months": "0", "action": "flag", "criteria-country": "Atlantis"},
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert page.count("invalid-feedback") >= 3 and 'value="Atlantis"' in page
    assert not RetentionPolicy.objects.exists()


def test_the_page_is_for_administrators(client, manager):
    client.force_login(manager)
    assert client.get("/settings/retention/").status_code == 403
