"""Every write to quotes: create (from an account or an opportunity), update (drafts only),
revise (a sent quote gets a new version), send (PDF by email, logged on the timeline),
accept (creates the order in the same transaction), reject, delete and restore.

Numbers come from :func:`farley.sales.numbering.next_number` inside the transaction that
saves the quote, after the input was validated: a failed save takes no number.
"""

from __future__ import annotations

import datetime as dt
import smtplib
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from farley.contacts.models import Account, Contact, EmailAddress, InteractionKind, TimelineEntry
from farley.contacts.services import _clean_owner_and_team, _touch_last_interaction
from farley.core import history, permissions, search, sharing, softdelete
from farley.core.customfields import clean_custom_values
from farley.core.errors import Forbidden, NotFound, ValidationFailed
from farley.core.models import ChangeAction, User
from farley.core.validation import Cleaner, check_version
from farley.sales import numbering
from farley.sales.models import (
    Opportunity,
    Order,
    PriceList,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from farley.sales.selectors import quotes as selectors
from farley.sales.selectors.catalogue import price_list_for_group
from farley.sales.services.catalogue import clean_currency, clean_money
from farley.sales.services.line_items import (
    clean_lines,
    clean_percent,
    copy_lines,
    document_snapshot,
    document_totals,
    replace_lines,
    resolve_account,
    resolve_contact,
    resolve_opportunity,
)

QUOTE_FIELDS = [
    "account_id",
    "contact_id",
    "opportunity_id",
    "price_list_id",
    "title",
    "currency",
    "language",
    "quote_date",
    "valid_until",
    "discount_percent",
    "discount_amount",
    "introduction",
    "terms",
    "lines",
    "owner_id",
    "team_id",
    "custom",
]
LANGUAGES = (("de", "Deutsch"), ("en", "English"))
SNAPSHOT_FIELDS = [
    "number",
    "revision",
    "status",
    "title",
    "currency",
    "language",
    "quote_date",
    "valid_until",
    "discount_percent",
    "discount_amount",
    "introduction",
    "terms",
    "net_total",
    "tax_total",
    "gross_total",
    "sent_at",
]


def validity_days() -> int:
    return int(getattr(settings, "FARLEY_QUOTE_VALIDITY_DAYS", 30))


def default_language(contact: Contact | None, account: Account | None) -> str:
    """The contact's language if it is German or English; else German for accounts in
    German-speaking countries, English for the rest."""
    language = (contact.language if contact else "")[:2].lower()
    if language in ("de", "en"):
        return language
    country = (account.country if account else "") or "DE"
    return "de" if country in ("DE", "AT", "CH", "LI", "LU") else "en"


def quote_snapshot(quote: Quote, lines: list[Any] | None = None) -> dict[str, Any]:
    relations = ("account", "contact", "opportunity", "price_list", "owner", "team")
    return document_snapshot(quote, SNAPSHOT_FIELDS, relations, lines)


def index_quote(quote: Quote) -> None:
    account = quote.account
    title = " · ".join(p for p in (str(quote), quote.title) if p)
    subtitle = " · ".join(
        p for p in (account.name, str(QuoteStatus(quote.status).label), str(quote.gross_total))
        if p
    )  # fmt: skip
    search.index_document(
        entity="quote", object_id=quote.pk, owner_id=quote.owner_id, team_id=quote.team_id,
        title=title, subtitle=subtitle,
        parts=[quote.number, quote.title, account.name, str(quote.contact or "")],
    )  # fmt: skip


def _reject_unknown(c: Cleaner, data: dict[str, Any], allowed: list[str]) -> None:
    for key in data:
        if key not in allowed:
            c.add(key, _("Unknown field."))


def _resolve_price_list(c: Cleaner, value: Any, currency: str) -> PriceList | None:
    if value in (None, ""):
        return None
    pk = c.integer("price_list_id", value, minimum=1, maximum=2**63 - 1)
    if pk is None:
        return None
    price_list = PriceList.objects.filter(pk=pk).first()
    if price_list is None:
        c.add("price_list_id", _("Select a price list."))
    elif price_list.currency != currency:
        c.add(
            "price_list_id",
            _("This price list is in %(list)s, the quote in %(quote)s.")
            % {"list": price_list.currency, "quote": currency},
        )
    return price_list


def _clean_quote(
    actor: User, data: Any, quote: Quote | None
) -> tuple[dict[str, Any], list[dict[str, Any]] | None, Cleaner]:
    """The quote's values and clean lines (None: lines unchanged)."""
    if not isinstance(data, dict):
        raise ValidationFailed({"": [_("Expected an object.")]})
    c = Cleaner()
    _reject_unknown(c, data, QUOTE_FIELDS)
    creating = quote is None
    values: dict[str, Any] = {}

    def has(key: str) -> bool:
        return creating or key in data

    opportunity: Opportunity | None = quote.opportunity if quote else None
    if has("opportunity_id"):
        opportunity = resolve_opportunity(c, actor, data.get("opportunity_id"))
        values["opportunity"] = opportunity
    account = quote.account if quote else None
    if has("account_id"):
        from_opportunity = opportunity.account if opportunity and creating else None
        account = (
            resolve_account(c, actor, data.get("account_id"), required=from_opportunity is None)
            or from_opportunity
        )
        values["account"] = account
    if opportunity is not None and account is not None and opportunity.account_id != account.pk:
        c.add("opportunity_id", _("This opportunity belongs to another account."))
    contact = quote.contact if quote else None
    if has("contact_id"):
        contact = resolve_contact(c, actor, data.get("contact_id"), account)
        values["contact"] = contact
    if has("currency"):
        fallback = opportunity.currency if opportunity else "EUR"
        values["currency"] = clean_currency(c, "currency", data.get("currency"), default=fallback)
    currency = values.get("currency", quote.currency if quote else "EUR")
    price_list = quote.price_list if quote else None
    if has("price_list_id"):
        price_list = _resolve_price_list(c, data.get("price_list_id"), currency)
        if price_list is None and creating and account is not None and c.ok:
            price_list = price_list_for_group([t.name for t in account.tags.all()], currency)
        values["price_list"] = price_list
    elif price_list is not None and price_list.currency != currency:
        c.add(
            "currency",
            _("The price list is in %(list)s: choose it, or another price list.")
            % {"list": price_list.currency},
        )
    if has("title"):
        values["title"] = c.text("title", data.get("title"), max_length=200)
    if has("language"):
        language = data.get("language") or default_language(contact, account)
        values["language"] = c.choice("language", language, LANGUAGES) or "de"
    if has("quote_date"):
        values["quote_date"] = c.date("quote_date", data.get("quote_date")) or (
            quote.quote_date if quote else timezone.localdate()
        )
    quote_date = values.get("quote_date", quote.quote_date if quote else timezone.localdate())
    if has("valid_until"):
        values["valid_until"] = c.date("valid_until", data.get("valid_until")) or (
            quote_date + dt.timedelta(days=validity_days())
        )
    valid_until = values.get("valid_until", quote.valid_until if quote else quote_date)
    if valid_until < quote_date and "valid_until" not in c.errors:
        c.add("valid_until", _("The validity ends before the quote's date."))
    for key, length in (("introduction", 10000), ("terms", 10000)):
        if has(key):
            values[key] = c.text(key, data.get(key), max_length=length)
    if has("discount_percent"):
        values["discount_percent"] = clean_percent(
            c, "discount_percent", data.get("discount_percent")
        )
    if has("discount_amount"):
        values["discount_amount"] = clean_money(
            c, "discount_amount", data.get("discount_amount"), default=Decimal("0")
        ) or Decimal("0")
    values.update(_clean_owner_and_team(c, actor, data, quote))
    if has("custom"):
        values["custom"] = clean_custom_values(
            "quote", data.get("custom"), existing=quote.custom if quote else {}, cleaner=c
        )
    lines = None
    if "lines" in data:
        lines = clean_lines(c, data.get("lines"), currency=currency, price_list=price_list)
    elif creating and opportunity is not None:
        lines = copy_lines(opportunity.lines.all())
    elif creating:
        lines = []
    return values, lines, c


def _apply_totals(c: Cleaner, quote: Quote, lines: list[Any]) -> None:
    totals = document_totals(
        c, lines, discount_percent=quote.discount_percent, discount_amount=quote.discount_amount
    )
    quote.net_total, quote.tax_total = totals.net_total, totals.tax_total
    quote.gross_total = totals.gross_total


def quote_create(*, actor: User, data: dict[str, Any]) -> Quote:
    """A new draft quote for an account, or for an opportunity (its account, currency and
    line items are taken over unless given). It gets the next number of its year."""
    permissions.require(actor, "create", "quote")
    values, lines, c = _clean_quote(actor, data, None)
    c.raise_if_invalid()
    quote = Quote(**values)
    _apply_totals(c, quote, lines or [])
    c.raise_if_invalid()
    with transaction.atomic():
        now = timezone.now()
        quote.created_at = quote.updated_at = now
        quote.number = numbering.next_number("quote", quote.quote_date)
        quote.save()
        replace_lines(QuoteLine, "quote", quote, lines or [])
        _after_change(actor, quote, ChangeAction.CREATE, after=quote_snapshot(quote, lines))
    return quote


def _after_change(
    actor: User, quote: Quote, action: str, *, before: dict | None = None, after: dict | None = None
) -> None:
    history.record_change(
        entity="quote", object_id=quote.pk, action=action, actor=actor, before=before, after=after
    )
    index_quote(quote)
    sharing.apply_rules("quote", quote)


def _locked(actor: User, quote_id: int) -> Quote:
    """The quote, locked, if ``actor`` may change it."""
    permissions.require(actor, "edit", "quote")
    quote = (
        selectors.quotes_visible_to(actor, for_edit=True)
        .select_for_update()
        .filter(pk=quote_id)
        .first()
    )
    if quote is None:
        if selectors.quotes_visible_to(actor).filter(pk=quote_id).exists():
            raise Forbidden(_("This record is shared with you to read, not to change."))
        raise NotFound()
    return quote


def _refuse(status: str, message: str) -> ValidationFailed:
    return ValidationFailed({"status": [message]}, message)


def quote_update(*, actor: User, quote_id: int, data: dict[str, Any], version: Any = None) -> Quote:
    """Change a draft; a sent quote is changed by revising it (422 otherwise)."""
    with transaction.atomic():
        quote = _locked(actor, quote_id)
        check_version(quote, version if version is not None else data.get("version"))
        if quote.status != QuoteStatus.DRAFT:
            raise _refuse(
                quote.status,
                _("Only draft quotes can be changed. Revise the quote to make a new version."),
            )
        data = {k: v for k, v in data.items() if k != "version"}
        values, lines, c = _clean_quote(actor, data, quote)
        c.raise_if_invalid()
        before = quote_snapshot(quote)
        for key, value in values.items():
            setattr(quote, key, value)
        if lines is None:
            lines = list(quote.lines.all())
        else:
            replace_lines(QuoteLine, "quote", quote, lines)
        _apply_totals(c, quote, lines)
        c.raise_if_invalid()
        after = quote_snapshot(quote, lines)
        if history.diff(before, after):
            quote.version += 1
            quote.updated_at = timezone.now()
            quote.save()
            _after_change(actor, quote, ChangeAction.UPDATE, before=before, after=after)
    return quote


def _set_status(actor: User, quote: Quote, status: str, **fields: Any) -> None:
    before = quote_snapshot(quote)
    quote.status = status
    for key, value in fields.items():
        setattr(quote, key, value)
    quote.version += 1
    quote.updated_at = timezone.now()
    quote.save()
    _after_change(actor, quote, ChangeAction.UPDATE, before=before, after=quote_snapshot(quote))


def quote_revise(*, actor: User, quote_id: int, version: Any = None) -> Quote:
    """A sent (or expired, or rejected) quote gets a new version: a draft with the same
    number, the next revision and the same content; the old one is kept, superseded."""
    with transaction.atomic():
        old = _locked(actor, quote_id)
        check_version(old, version)
        if old.status not in (QuoteStatus.SENT, QuoteStatus.REJECTED):
            raise _refuse(old.status, _("Only sent or rejected quotes can be revised."))
        today = timezone.localdate()
        new = Quote(
            number=old.number, revision=old.revision + 1, previous=old,
            **{f: getattr(old, f) for f in (
                "account_id", "contact_id", "opportunity_id", "price_list_id", "title",
                "currency", "language", "discount_percent", "discount_amount", "introduction",
                "terms", "net_total", "tax_total", "gross_total", "owner_id", "team_id", "custom",
            )},
            status=QuoteStatus.DRAFT, quote_date=today,
            valid_until=today + dt.timedelta(days=validity_days()),
        )  # fmt: skip
        now = timezone.now()
        new.created_at = new.updated_at = now
        new.save()
        lines = copy_lines(old.lines.all())
        replace_lines(QuoteLine, "quote", new, lines)
        _after_change(actor, new, ChangeAction.CREATE, after=quote_snapshot(new, lines))
        _set_status(actor, old, QuoteStatus.SUPERSEDED)
    return new


def email_addresses(quote: Quote) -> list[str]:
    """Where the quote may be sent: the addresses of its contact, then of its account."""
    found: list[str] = []
    rows = EmailAddress.objects.none()
    if quote.contact_id:
        rows = EmailAddress.objects.filter(contact_id=quote.contact_id).order_by("position")
        found += [e.address for e in rows]
    rows = EmailAddress.objects.filter(account_id=quote.account_id).order_by("position")
    found += [e.address for e in rows if e.address not in found]
    return found


def default_email_text(quote: Quote) -> tuple[str, str]:
    """Subject and text of the email, in the quote's language."""
    with translation.override(quote.language):
        subject = _("Quote %(number)s") % {"number": str(quote)}
        if quote.title:
            subject += f": {quote.title}"
        contact = quote.contact
        greeting = _("Dear %(name)s,") % {"name": contact.full_name} if contact else _("Hello,")
        body = (
            "\n\n".join(
                [
                    greeting,
                    _("please find attached our quote %(number)s.") % {"number": str(quote)},
                    _("Kind regards"),
                ]
            )
            + f"\n{settings.FARLEY_COMPANY_NAME}"
        )
    return subject, body


def quote_send(
    *, actor: User, quote_id: int, to: Any, subject: Any = None, message: Any = None,
    version: Any = None,
) -> Quote:  # fmt: skip
    """Email the quote as PDF to one of its contact's or account's addresses, mark it sent
    and log the email on the timeline of the account and the contact. A draft or a sent
    quote can be sent (again); if the email cannot be delivered, nothing changes."""
    from farley.sales.quote_pdf import quote_pdf, quote_pdf_name

    with transaction.atomic():
        quote = _locked(actor, quote_id)
        check_version(quote, version)
        status = selectors.current_status(quote)
        if status not in (QuoteStatus.DRAFT, QuoteStatus.SENT):
            raise _refuse(status, _("Only draft or sent quotes that are still valid can be sent."))
        c = Cleaner()
        address = c.email("to", to, required=True)
        allowed = {a.lower() for a in email_addresses(quote)}
        if address and "to" not in c.errors and address not in allowed:
            c.add("to", _("Choose an address of the quote's contact or account."))
        default_subject, default_body = default_email_text(quote)
        subject = c.text("subject", subject, max_length=300) or default_subject
        body = c.text("message", message, max_length=20000) or default_body
        if quote.valid_until < timezone.localdate():
            c.add("valid_until", _("The quote's validity has ended: change its dates first."))
        c.raise_if_invalid()
        pdf = quote_pdf(quote, selectors.quote_lines(quote))
        _set_status(actor, quote, QuoteStatus.SENT, sent_at=timezone.now())
        email = EmailMessage(
            subject, body, settings.DEFAULT_FROM_EMAIL, [address],
            reply_to=[actor.email] if actor.email else None,
        )  # fmt: skip
        email.attach(quote_pdf_name(quote), pdf, "application/pdf")
        try:
            email.send(fail_silently=False)
        except (smtplib.SMTPException, OSError) as exc:
            raise ValidationFailed(
                {"to": [_("The email could not be sent: %(error)s") % {"error": exc}]}
            ) from exc
        entry = TimelineEntry.objects.create(
            kind=InteractionKind.EMAIL, direction="out", subject=subject[:300],
            body=f"{body}\n\n{_('To')}: {address}\n{_('Attachment')}: {quote_pdf_name(quote)}",
            account_id=quote.account_id, contact_id=quote.contact_id, author=actor,
        )  # fmt: skip
        _touch_last_interaction(entry)
    return quote


def quote_accept(*, actor: User, quote_id: int, version: Any = None) -> tuple[Quote, Order]:
    """The customer accepted: a sent quote that is still valid becomes accepted, and its
    order (with its line items) is created in the same transaction."""
    from farley.sales.services.orders import order_from_quote

    permissions.require(actor, "create", "order")
    with transaction.atomic():
        quote = _locked(actor, quote_id)
        check_version(quote, version)
        status = selectors.current_status(quote)
        if status == QuoteStatus.EXPIRED:
            raise _refuse(
                status,
                _("This quote expired on %(date)s; revise it to make a new, valid version.")
                % {"date": quote.valid_until.isoformat()},
            )
        if status != QuoteStatus.SENT:
            raise _refuse(status, _("Only sent quotes can be accepted."))
        _set_status(actor, quote, QuoteStatus.ACCEPTED, decided_at=timezone.now())
        order = order_from_quote(actor=actor, quote=quote)
    return quote, order


def quote_reject(*, actor: User, quote_id: int, version: Any = None) -> Quote:
    """The customer declined a sent (or expired) quote."""
    with transaction.atomic():
        quote = _locked(actor, quote_id)
        check_version(quote, version)
        if quote.status != QuoteStatus.SENT:
            raise _refuse(quote.status, _("Only sent quotes can be rejected."))
        _set_status(actor, quote, QuoteStatus.REJECTED, decided_at=timezone.now())
    return quote


def quote_delete(*, actor: User, quote_id: int) -> Quote:
    """Move a quote to the trash (soft delete); it can be restored."""
    records = selectors.quotes_visible_to(actor, for_edit=True)
    return softdelete.soft_delete(actor, "quote", records, quote_id)


def quote_restore(*, actor: User, quote_id: int) -> Quote:
    """Bring a quote back from the trash."""
    records = selectors.quotes_visible_to(actor, include_deleted=True, for_edit=True)
    return softdelete.restore(actor, "quote", records, quote_id, index_quote)
