"""Sending a quote: a real SMTP server (aiosmtpd on 127.0.0.1) receives the email with the
PDF; the quote is marked sent and the email is on the account's and contact's timeline. A
server that refuses the email changes nothing."""

from __future__ import annotations

import email
import io
import json

import pytest
from django.test import Client
from pypdf import PdfReader

from farley.contacts.models import InteractionKind, TimelineEntry
from farley.core.errors import ValidationFailed
from farley.core.services import token_create
from farley.sales.models import Quote, QuoteStatus
from farley.sales.services import quotes
from tests.sales.quote_factories import expire, line, make_customer, make_quote, sent_quote
from tests.smtp_sink import smtp_fixture  # noqa: F401  (the "smtp" fixture)

pytestmark = pytest.mark.django_db


def _pdf_text(message: email.message.EmailMessage) -> tuple[str, str]:
    attachment = next(part for part in message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    reader = PdfReader(io.BytesIO(attachment.get_content()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    return attachment.get_filename(), text.replace("\xa0", " ").replace("\u202f", " ")


def test_sending_emails_the_pdf_and_logs_it_on_the_timeline(sales1, smtp):
    account, contact = make_customer(sales1)
    quote = make_quote(sales1, account=account, contact_id=contact.pk, title="Neue Anlage",
                       lines=[line("Schaltschrank", "2", "1500")])  # fmt: skip
    sent = quotes.quote_send(actor=sales1, quote_id=quote.pk, to="Erika@Mueller.example",
                             version=quote.version)  # fmt: skip
    assert sent.status == QuoteStatus.SENT and sent.sent_at is not None
    assert smtp.envelopes == [("vertrieb@farley.example", ["erika@mueller.example"])]
    message = smtp.messages[0]
    assert message["Subject"] == f"Angebot {quote.number}: Neue Anlage" or quote.number in str(
        message["Subject"]
    )
    assert "Erika Mustermann" in message.get_body(("plain",)).get_content()
    assert message["Reply-To"] == sales1.email  # answers go to the sender
    filename, text = _pdf_text(message)
    assert filename == f"{quote.number}.pdf"
    assert quote.number in text and "Schaltschrank" in text and "3.570,00 €" in text
    entry = TimelineEntry.objects.get()
    assert (entry.kind, entry.direction, entry.account, entry.contact, entry.author) == (
        InteractionKind.EMAIL, "out", account, contact, sales1,
    )  # fmt: skip
    assert quote.number in entry.subject and "erika@mueller.example" in entry.body
    account.refresh_from_db()
    contact.refresh_from_db()
    assert account.last_interaction_at and contact.last_interaction_at


def test_only_addresses_of_the_contact_or_account_are_allowed(sales1, smtp):
    quote = make_quote(sales1)
    with pytest.raises(ValidationFailed) as exc:
        quotes.quote_send(actor=sales1, quote_id=quote.pk, to="someone@else.example")
    assert "to" in exc.value.fields
    quotes.quote_send(actor=sales1, quote_id=quote.pk, to="einkauf@mueller.example")
    assert len(smtp.messages) == 1


def test_a_refused_email_changes_nothing(sales1, smtp):
    smtp.refuse = True
    quote = make_quote(sales1)
    with pytest.raises(ValidationFailed) as exc:
        quotes.quote_send(actor=sales1, quote_id=quote.pk, to="erika@mueller.example")
    assert "could not be sent" in exc.value.fields["to"][0]
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.DRAFT and quote.version == 1
    assert TimelineEntry.objects.count() == 0


def test_expired_accepted_and_superseded_quotes_are_not_sent(sales1, smtp):
    expired = expire(sent_quote(sales1))
    with pytest.raises(ValidationFailed):
        quotes.quote_send(actor=sales1, quote_id=expired.pk, to="erika@mueller.example")
    accepted = sent_quote(sales1)
    quotes.quote_accept(actor=sales1, quote_id=accepted.pk)
    with pytest.raises(ValidationFailed):
        quotes.quote_send(actor=sales1, quote_id=accepted.pk, to="erika@mueller.example")
    assert smtp.messages == []


def test_send_through_the_api_and_the_page(sales1, smtp):
    account, contact = make_customer(sales1)
    quote = make_quote(sales1, account=account, contact_id=contact.pk, language="en")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token_create(user=sales1, name='t')[1]}")
    response = client.post(f"/api/v1/quotes/{quote.pk}/send",
                           json.dumps({"to": "erika@mueller.example", "subject": "Our quote"}),
                           content_type="application/json")  # fmt: skip
    assert response.status_code == 200 and response.json()["status"] == "sent"
    assert smtp.messages[-1]["Subject"] == "Our quote"
    _filename, text = _pdf_text(smtp.messages[-1])
    assert "€119.00" in text  # English number format: 100.00 + 19 % VAT
    bad = client.post(f"/api/v1/quotes/{quote.pk}/send", json.dumps({"to": "x@y.example"}),
                      content_type="application/json")  # fmt: skip
    assert bad.status_code == 422 and "to" in bad.json()["error"]["fields"]
    page = Client()
    page.force_login(sales1)
    again = page.post(f"/quotes/{quote.pk}/send/", {"to": "einkauf@mueller.example"})
    assert again.status_code == 302 and len(smtp.messages) == 2
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.SENT
