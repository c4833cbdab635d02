"""Data-protection rights of a contact (GDPR/DSGVO Art. 15 and 17).

*Access*: :func:`access_export` gathers everything Farley stores about a person (master data
including sensitive fields, channels, account links, relationships, timeline, field history)
as one JSON document, optionally in a ZIP with an ``attachments/`` folder. Later capabilities
(emails, tickets, consents, scores) add their part with :func:`register_export`.

*Erasure*: :func:`erase` anonymises the contact irreversibly: personal fields, channels and
custom values are removed from the record; every mention of the former names, email
addresses and phone numbers is replaced in its history, its timeline entries, the history and
timeline of other records and the search index; timeline entries about the person keep only
their kind and date. The record itself, its account links and relationships stay, so counts
and revenue figures remain consistent. The erasure is logged without personal data (a
``ChangeRecord`` with the action "erase"), which is also the list that ``farley
reapply-erasures`` works through after restoring a backup.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from farley.contacts import selectors, shared_addresses
from farley.contacts.models import Contact, Relationship, TimelineEntry
from farley.core import audit, history, permissions, search
from farley.core.errors import Forbidden, NotFound
from farley.core.models import ChangeAction, ChangeRecord, User

ERASED = "[erased]"
_exporters: dict[str, Callable[[Contact], Any]] = {}
_file_sources: list[Callable[[Contact], Iterable[tuple[str, bytes]]]] = []
_erasers: list[Callable[[Contact], Any]] = []


def register_export(name: str, exporter: Callable[[Contact], Any]) -> None:
    """Add a part to the access export: ``exporter(contact)`` returns JSON-ready data."""
    _exporters[name] = exporter


def register_files(source: Callable[[Contact], Iterable[tuple[str, bytes]]]) -> None:
    """Add files to the access export's ZIP: ``source(contact)`` yields (path, bytes)."""
    _file_sources.append(source)


def register_erasure(eraser: Callable[[Contact], Any]) -> None:
    """Erase a capability's personal data of a contact too: ``eraser(contact)`` runs inside
    the erasure's transaction."""
    _erasers.append(eraser)


def _require_privacy_officer(actor: User) -> None:
    """Exports and erasures of a person's data need the contact permissions "export" and
    "see sensitive data" (a data-protection officer role has them), or administrators."""
    if not (
        permissions.can(actor, "export", "contact")
        and permissions.can(actor, "sensitive", "contact")
    ):
        raise Forbidden(_("Only the data-protection officer or administrators may do this."))


def _contact(actor: User | None, contact_id: int) -> Contact:
    records = (
        Contact.objects.all()
        if actor is None  # the command line
        else selectors.contacts_visible_to(actor, include_deleted=True)
    )
    contact = (
        records.prefetch_related("emails", "phones", "addresses", "tags", "account_links__account")
        .filter(pk=contact_id)
        .first()
    )
    if contact is None:
        raise NotFound()
    return contact


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def access_export(*, actor: User, contact_id: int) -> dict[str, Any]:
    """Everything stored about one contact, as a JSON-ready dict (GDPR Art. 15)."""
    _require_privacy_officer(actor)
    contact = _contact(actor, contact_id)
    fields = [
        "id", "salutation", "academic_title", "first_name", "last_name", "job_title",
        "department", "language", "birthday", "preferred_channel", "description", "created_at",
        "updated_at", "deleted_at", "last_interaction_at",
    ]  # fmt: skip
    relationships = Relationship.objects.filter(
        Q(from_contact=contact) | Q(to_contact=contact)
    ).select_related("type", "from_account", "from_contact", "to_account", "to_contact")
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "exported_by": actor.email,
        "contact": {f: _plain(getattr(contact, f)) for f in fields},
        "owner": contact.owner.email,
        "team": str(contact.team) if contact.team_id else None,
        "custom_fields": contact.custom,
        "emails": [{"address": e.address, "kind": e.kind} for e in contact.emails.all()],
        "phones": [{"number": p.number, "kind": p.kind} for p in contact.phones.all()],
        "addresses": [
            {
                k: getattr(a, k)
                for k in (
                    "kind",
                    "street",
                    "house_number",
                    "extra",
                    "postal_code",
                    "city",
                    "region",
                    "country",
                )
            }
            for a in contact.addresses.all()
        ],
        "tags": sorted(t.name for t in contact.tags.all()),
        "accounts": [
            {
                "name": link.account.name,
                "customer_number": link.account.customer_number,
                "role": link.role,
            }
            for link in contact.account_links.all()
        ],
        "relationships": [
            {"type": r.type.key, "from": str(r.source), "to": str(r.target), "note": r.note}
            for r in relationships
        ],
        "timeline": [
            {
                "kind": e.kind,
                "direction": e.direction,
                "subject": e.subject,
                "body": e.body,
                "occurred_at": _plain(e.occurred_at),
                "deleted": e.deleted_at is not None,
            }
            for e in TimelineEntry.objects.filter(contact=contact).order_by("occurred_at")
        ],
        "history": [
            {
                "at": _plain(c.at),
                "action": c.action,
                "by": str(c.actor) if c.actor else None,
                "changes": c.changes,
            }
            for c in ChangeRecord.objects.filter(entity="contact", object_id=contact.pk)
            .select_related("actor")
            .order_by("at", "id")
        ],
    }
    for name, exporter in _exporters.items():
        data[name] = exporter(contact)
    history.record_change(
        entity="contact", object_id=contact.pk, action=ChangeAction.EXPORT, actor=actor
    )
    audit.log_access(actor, "contact", contact.pk, "privacy_export")
    return data


def access_export_zip(*, actor: User, contact_id: int) -> bytes:
    """The access export as a ZIP: ``data.json`` and the files stored about the person
    under ``attachments/``."""
    data = access_export(actor=actor, contact_id=contact_id)
    contact = _contact(actor, contact_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2, default=str))
        for source in _file_sources:
            for path, content in source(contact):
                archive.writestr(path, content)
    return buffer.getvalue()


# --- erasure --------------------------------------------------------------------------------


def _identifiers(contact: Contact) -> list[str]:
    """The strings that identify the person: names, emails, phone numbers (and their digits)."""
    found = {contact.full_name, contact.first_name, contact.last_name}
    found |= {e.address for e in contact.emails.all()}
    for p in contact.phones.all():
        found |= {p.number, p.number.lstrip("+")}
    return sorted((s for s in found if s and len(s.strip()) >= 2), key=len, reverse=True)


def _scrub(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_scrub(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, pattern) for k, v in value.items()}
    return value


def erase(*, actor: User | None, contact_id: int) -> Contact:
    """Anonymise a contact irreversibly (GDPR Art. 17); see the module. ``actor`` None: the
    command line (``farley reapply-erasures``)."""
    if actor is not None and not permissions.can(actor, "administer", "contact"):
        raise Forbidden(_("Only administrators may erase personal data."))
    with transaction.atomic():
        contact = _contact(actor, contact_id)
        identifiers = _identifiers(contact)
        pattern = re.compile("|".join(re.escape(s) for s in identifiers), re.IGNORECASE)
        # Every history entry and timeline entry that mentions the person, anywhere.
        mention = Q()
        for text in identifiers:
            # JSON may hold non-ASCII text escaped ("M\u00fcller" on SQLite).
            for spelling in {text, json.dumps(text)[1:-1]}:
                mention |= Q(changes__icontains=spelling)
        for change in ChangeRecord.objects.filter(
            Q(entity="contact", object_id=contact.pk) | mention
        ):
            change.changes = _scrub(change.changes, pattern)
            change.save(update_fields=["changes"])
        own = TimelineEntry.objects.filter(contact=contact)
        own.update(subject=ERASED, body="")
        text_mention = Q()
        for text in identifiers:
            text_mention |= Q(subject__icontains=text) | Q(body__icontains=text)
        for entry in TimelineEntry.objects.filter(text_mention).exclude(contact=contact):
            entry.subject = _scrub(entry.subject, pattern)
            entry.body = _scrub(entry.body, pattern)
            entry.save(update_fields=["subject", "body"])
        Relationship.objects.filter(Q(from_contact=contact) | Q(to_contact=contact)).update(note="")
        for eraser in _erasers:
            eraser(contact)
        # The record: nothing personal stays.
        contact.emails.all().delete()
        contact.phones.all().delete()
        contact.addresses.all().delete()
        shared_addresses.refresh("contact", [contact.pk])
        for field in ("salutation", "academic_title", "job_title", "department", "language",
                      "preferred_channel", "description", "primary_email", "primary_phone",
                      "postal_code", "city", "first_name"):  # fmt: skip
            setattr(contact, field, "")
        contact.last_name = _("Erased contact %(id)s") % {"id": contact.pk}
        contact.birthday = None
        contact.custom = {}
        contact.version += 1
        contact.updated_at = timezone.now()
        contact.save()
        # The erasure is logged without personal data.
        ChangeRecord.objects.create(
            entity="contact",
            object_id=contact.pk,
            action=ChangeAction.ERASE,
            actor=actor if actor is not None and actor.pk else None,
            changes={},
        )
        if contact.deleted_at is None:
            from farley.contacts.services import _index_contact

            _index_contact(contact)
        else:
            search.remove_document(entity="contact", object_id=contact.pk)
    return contact


def erased_contact_ids() -> list[int]:
    """The contacts ever erased: after restoring a backup, erase them again."""
    return list(
        ChangeRecord.objects.filter(entity="contact", action=ChangeAction.ERASE)
        .values_list("object_id", flat=True)
        .distinct()
    )
