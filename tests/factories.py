"""factory_boy factories and helpers that create customer data through the services.

Roles are not created here: the migration makes the built-in ones (administrator, manager,
sales, service, marketing, read_only) and :class:`RoleFactory` looks them up by key.
Accounts and contacts are made with :func:`make_account` / :func:`make_contact`, which call
the real services, so history, search index and denormalised columns are what users get.
"""

from __future__ import annotations

from typing import Any

import factory
from factory.django import DjangoModelFactory

from farley.contacts import services as contact_services
from farley.contacts.models import Account, Contact, TimelineEntry
from farley.core.models import Role, Team, User


class RoleFactory(DjangoModelFactory):
    """``RoleFactory(key="sales")`` returns the built-in role made by the migration."""

    class Meta:
        model = Role
        django_get_or_create = ("key",)

    key = "sales"


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(DjangoModelFactory):
    """A user; ``role`` is a role key, ``teams`` a list of :class:`Team`."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Sequence(lambda n: f"User {n}")
    # An unusable password: hashing with Argon2 would only slow the tests down.
    password = "!"
    role = factory.LazyAttribute(lambda o: RoleFactory(key=o.role_key))

    class Params:
        role_key = "sales"

    @factory.post_generation
    def teams(self, create: bool, extracted: list[Team] | None, **kwargs: Any) -> None:
        if create and extracted:
            self.teams.add(*extracted)


def make_user(role: str = "sales", *teams: Team, **kwargs: Any) -> User:
    return UserFactory(role_key=role, teams=list(teams), **kwargs)


def make_account(actor: User, **data: Any) -> Account:
    """Create an account through ``account_create``; ``name`` defaults to a unique one."""
    data.setdefault("name", f"Firma {Account.objects.count() + 1} GmbH")
    return contact_services.account_create(actor=actor, data=data)


def make_contact(actor: User, **data: Any) -> Contact:
    """Create a contact through ``contact_create``; ``last_name`` defaults to a unique one."""
    data.setdefault("last_name", f"Person{Contact.objects.count() + 1}")
    return contact_services.contact_create(actor=actor, data=data)


def log_interaction(actor: User, **data: Any) -> TimelineEntry:
    data.setdefault("subject", "Anruf")
    return contact_services.timeline_entry_create(actor=actor, data=data)


def relate(
    actor: User, source: Account | Contact, target: Account | Contact, type_key: str = "reports_to"
):
    def kind(record: Account | Contact) -> str:
        return "account" if isinstance(record, Account) else "contact"

    return contact_services.relationship_create(
        actor=actor,
        data={
            "type": type_key,
            "from_type": kind(source),
            "from_id": source.pk,
            "to_type": kind(target),
            "to_id": target.pk,
        },
    )


def make_opportunity(actor: User, account: Account | None = None, **data: Any):
    """Create a deal through ``opportunity_create`` (in the default pipeline's first stage
    unless ``stage_id`` says otherwise); ``account`` defaults to a new account of ``actor``."""
    from farley.sales.services.opportunities import opportunity_create

    if "account_id" not in data:
        data["account_id"] = (account or make_account(actor)).pk
    data.setdefault("name", f"Deal {data['account_id']}")
    return opportunity_create(actor=actor, data=data)


def make_lead(actor: User, **data: Any):
    """Create a lead through ``lead_create``; ``last_name`` defaults to a unique one, the
    owner to ``actor`` (so that assignment rules stay out of it unless ``owner_id=None``)."""
    from farley.sales.models import Lead
    from farley.sales.services.leads import lead_create

    data.setdefault("last_name", f"Interessent{Lead.objects.count() + 1}")
    data.setdefault("owner_id", actor.pk)
    if data["owner_id"] is None:
        del data["owner_id"]
    return lead_create(actor=actor, data=data)
