"""Pages: quotes — list, form (drafts), 360 page with PDF, send, revise, accept, reject,
delete and restore."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from farley.contacts import selectors as contact_selectors
from farley.contacts.models import Account
from farley.core import customfields, panels, permissions, sensitive
from farley.core import selectors as core_selectors
from farley.core.errors import Conflict, Forbidden, ValidationFailed
from farley.sales.models import Order, ProductUnit, Quote, QuoteStatus, TaxRate
from farley.sales.quote_pdf import quote_pdf, quote_pdf_name
from farley.sales.selectors import catalogue as catalogue_selectors
from farley.sales.selectors import quotes as selectors
from farley.sales.services import quotes as services
from farley.sales.services.line_items import LINE_FIELDS, opportunities_visible_to
from farley.web.formdata import custom_values, rows, simple

ENTITY = "quote"
PAGE_SIZE = 50
FORM_FIELDS = [
    "contact_id", "price_list_id", "title", "currency", "language", "quote_date", "valid_until",
    "discount_percent", "discount_amount", "introduction", "terms", "owner_id", "team_id",
]  # fmt: skip
STATUS_BADGES = {
    "draft": "secondary", "sent": "primary", "accepted": "success", "rejected": "danger",
    "expired": "warning", "superseded": "light",
}  # fmt: skip


def form_line(line: Any) -> dict[str, Any]:
    """A line as the form shows it: numbers without trailing zeros ("2", not "2.000")."""
    values = {k: getattr(line, k) for k in LINE_FIELDS}
    for key in ("quantity", "discount_percent", "discount_amount"):
        number = values[key]
        values[key] = "" if not number else f"{number.normalize():f}"
    return values


def _conflict() -> str:
    return _(
        "Someone else saved this quote while you were editing it. Your input is still here; "
        "saving again replaces their changes."
    )


# --- list -----------------------------------------------------------------------------------


@login_required
def quote_list(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "view", ENTITY)
    params = {k: v for k, v in request.GET.items() if k in selectors.QUOTE_FILTERS and v}
    trash = request.GET.get("trash") == "1"
    try:
        queryset = selectors.quote_list(request.user, params, trash=trash)
    except ValidationFailed:
        params, queryset = {}, selectors.quote_list(request.user, {}, trash=trash)
    page = Paginator(queryset.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "sales/quotes/list.html",
        {
            "nav": "quotes",
            "trash": trash,
            "page": page,
            "params": params,
            "statuses": QuoteStatus.choices,
            "badges": STATUS_BADGES,
        },
    )


# --- form -----------------------------------------------------------------------------------


def _account_from_text(request: HttpRequest, text: str) -> Account | None:
    """ "Name [K000123]" (the picker's option) or a unique exact name."""
    text = text.strip()
    visible = contact_selectors.accounts_visible_to(request.user)
    match = re.search(r"\[(K\d+)\]\s*$", text)
    account = visible.filter(customer_number=match.group(1)).first() if match else None
    if account is None and text:
        candidates = list(visible.filter(name__iexact=text)[:2])
        account = candidates[0] if len(candidates) == 1 else None
    return account


def account_label(account: Account | None) -> str:
    return f"{account.name} [{account.customer_number}]" if account else ""


def _contacts_of(request: HttpRequest, account: Account | None) -> list[Any]:
    if account is None:
        return []
    return [link.contact for link in contact_selectors.account_contacts(request.user, account)]


def _form_data(request: HttpRequest, quote: Quote | None) -> tuple[dict[str, Any], str]:
    post = request.POST
    data = simple(post, FORM_FIELDS)
    for key in ("owner_id", "team_id", "contact_id", "price_list_id"):
        if data.get(key) == "":
            data[key] = None
    text = post.get("account", "").strip()
    if quote is None or text != account_label(quote.account):
        account = _account_from_text(request, text) if text else None
        data["account_id"] = account.pk if account else (0 if text else None)
    if quote is None and post.get("opportunity_id", "").isdigit():
        data["opportunity_id"] = post["opportunity_id"]
    data["lines"] = [
        {k: v for k, v in row.items() if k in LINE_FIELDS}
        for row in rows(post, "lines", "product_id,description,quantity,unit_price")
    ]
    data["custom"] = custom_values(post, _definitions(request))
    return data, text


def _definitions(request: HttpRequest) -> list[Any]:
    return sensitive.visible_definitions(request.user, ENTITY, customfields.definitions_for(ENTITY))


def _initial(request: HttpRequest, quote: Quote | None) -> dict[str, Any]:
    if quote is None:
        values: dict[str, Any] = {"lines": [{}, {}, {}], "custom": {}, "currency": "EUR"}
        account_id = request.GET.get("account", "")
        if account_id.isdigit():
            account = (
                contact_selectors.accounts_visible_to(request.user).filter(pk=account_id).first()
            )
            values["account"] = account_label(account)
            values["account_obj"] = account
        opportunity_id = request.GET.get("opportunity", "")
        if opportunity_id.isdigit():
            opportunity = (
                opportunities_visible_to(request.user)
                .select_related("account")
                .filter(pk=opportunity_id)
                .first()
            )
            if opportunity is not None:
                values.update(
                    opportunity_id=opportunity.pk, opportunity=opportunity,
                    account=account_label(opportunity.account), account_obj=opportunity.account,
                    currency=opportunity.currency, title=opportunity.name,
                    lines=[{k: getattr(line, k) for k in LINE_FIELDS if k != "product_id"}
                           | {"product_id": line.product_id} for line in opportunity.lines.all()]
                    or [{}],
                )  # fmt: skip
        return values
    values = {f: getattr(quote, f) for f in FORM_FIELDS}
    for key in ("quote_date", "valid_until"):
        values[key] = values[key].isoformat()
    values["account"] = account_label(quote.account)
    values["account_obj"] = quote.account
    values["custom"] = dict(quote.custom)
    values["lines"] = [form_line(line) for line in quote.lines.all()]
    return values


def _quote_form(request: HttpRequest, quote: Quote | None) -> HttpResponse:
    if quote is None:
        permissions.require(request.user, "create", ENTITY)
    elif quote.status != QuoteStatus.DRAFT:
        messages.error(request, _("Only draft quotes can be changed. Revise the quote instead."))
        return redirect("sales:quote_detail", quote.pk)
    values, errors, status = _initial(request, quote), {}, 200
    if request.method == "POST":
        data, account_text = _form_data(request, quote)
        try:
            if quote is None:
                saved = services.quote_create(actor=request.user, data=data)
            else:
                saved = services.quote_update(
                    actor=request.user, quote_id=quote.pk, data=data,
                    version=request.POST.get("version"),
                )  # fmt: skip
        except ValidationFailed as exc:
            errors, status = exc.fields, 422
            if "account_id" in errors and account_text:
                errors.setdefault("account", errors["account_id"])
        except Conflict:
            errors, status = {"": [_conflict()]}, 409
            quote.refresh_from_db()
        except Forbidden as exc:
            errors, status = {"": [exc.message]}, 403
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:quote_detail", saved.pk)
        values = {**data, "account": account_text}
        values["account_obj"] = _account_from_text(request, account_text)
        if data.get("opportunity_id"):
            values["opportunity_id"] = data["opportunity_id"]
        values["lines"] = data["lines"] or [{}]
    account = values.get("account_obj")
    keep_products = [
        int(x["product_id"]) for x in values["lines"] if str(x.get("product_id") or "").isdigit()
    ]
    context = {
        "nav": "quotes",
        "quote": quote,
        "values": values,
        "errors": errors,
        "contacts": _contacts_of(request, account),
        "products": catalogue_selectors.product_choices(request.user, keep=keep_products),
        "price_lists": catalogue_selectors.price_list_choices(
            request.user, keep=quote.price_list_id if quote else None
        ),
        "units": ProductUnit.choices,
        "tax_rates": TaxRate.choices,
        "languages": services.LANGUAGES,
        "owners": core_selectors.user_choices(),
        "teams": core_selectors.team_choices(),
        "definitions": _definitions(request),
    }
    return render(request, "sales/quotes/form.html", context, status=status)


@login_required
def quote_create(request: HttpRequest) -> HttpResponse:
    return _quote_form(request, None)


@login_required
def quote_edit(request: HttpRequest, quote_id: int) -> HttpResponse:
    quote = selectors.quote_detail(request.user, quote_id)
    permissions.require(request.user, "edit", ENTITY)
    if not selectors.quotes_visible_to(request.user, for_edit=True).filter(pk=quote.pk).exists():
        raise Forbidden(_("This record is shared with you to read, not to change."))
    return _quote_form(request, quote)


@login_required
def contact_options(request: HttpRequest) -> HttpResponse:
    """The contact choices of the account typed into the quote or order form (htmx)."""
    account = _account_from_text(request, request.GET.get("account", "")[:300])
    return render(
        request,
        "sales/quotes/_contact_options.html",
        {"contacts": _contacts_of(request, account), "selected": request.GET.get("contact_id")},
    )


# --- 360 page and actions -------------------------------------------------------------------


def quote_page_context(request: HttpRequest, quote: Quote) -> dict[str, Any]:
    try:
        order = quote.order if quote.status == QuoteStatus.ACCEPTED else None
    except Order.DoesNotExist:
        order = None
    may_edit = (
        not quote.is_deleted
        and permissions.can(request.user, "edit", ENTITY)
        and selectors.quotes_visible_to(request.user, for_edit=True).filter(pk=quote.pk).exists()
    )
    return {
        "nav": "quotes",
        "record": quote,
        "quote": quote,
        "status": quote.current_status,
        "badges": STATUS_BADGES,
        "lines": selectors.quote_lines(quote),
        "versions": selectors.quote_versions(request.user, quote),
        "order": order,
        "history": selectors.quote_history(quote),
        "may_edit": may_edit,
        "may_delete": permissions.can(request.user, "delete", ENTITY),
        "may_order": permissions.can(request.user, "create", "order"),
        "addresses": services.email_addresses(quote) if may_edit else [],
        "email_subject": services.default_email_text(quote)[0] if may_edit else "",
        "definitions": _definitions(request),
        "panels_side": panels.panels_for(ENTITY, request.user, quote, "side"),
    }


@login_required
def quote_detail(request: HttpRequest, quote_id: int) -> HttpResponse:
    quote = selectors.quote_detail(request.user, quote_id, include_deleted=True)
    return render(request, "sales/quotes/detail.html", quote_page_context(request, quote))


@login_required
def quote_pdf_view(request: HttpRequest, quote_id: int) -> HttpResponse:
    quote = selectors.quote_detail(request.user, quote_id)
    response = HttpResponse(
        quote_pdf(quote, selectors.quote_lines(quote)), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{quote_pdf_name(quote)}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _action(request: HttpRequest, quote_id: int, run, success: str) -> HttpResponse:
    """Run a state change; a refusal comes back as a message on the quote's page."""
    try:
        result = run()
    except (ValidationFailed, Conflict) as exc:
        for text in [m for ms in exc.fields.values() for m in ms] or [exc.message]:
            messages.error(request, text)
        return redirect("sales:quote_detail", quote_id)
    messages.success(request, success)
    return result


@login_required
@require_POST
def quote_send(request: HttpRequest, quote_id: int) -> HttpResponse:
    post = request.POST

    def run() -> HttpResponse:
        services.quote_send(
            actor=request.user, quote_id=quote_id, to=post.get("to", ""),
            subject=post.get("subject", ""), message=post.get("message", ""),
            version=post.get("version"),
        )  # fmt: skip
        return redirect("sales:quote_detail", quote_id)

    return _action(
        request, quote_id, run, _("The quote was sent by email and logged on the timeline.")
    )


@login_required
@require_POST
def quote_revise(request: HttpRequest, quote_id: int) -> HttpResponse:
    def run() -> HttpResponse:
        new = services.quote_revise(
            actor=request.user, quote_id=quote_id, version=request.POST.get("version")
        )
        return redirect("sales:quote_edit", new.pk)

    return _action(request, quote_id, run, _("A new version of the quote was made."))


@login_required
@require_POST
def quote_accept(request: HttpRequest, quote_id: int) -> HttpResponse:
    def run() -> HttpResponse:
        _quote, order = services.quote_accept(
            actor=request.user, quote_id=quote_id, version=request.POST.get("version")
        )
        return redirect("sales:order_detail", order.pk)

    return _action(request, quote_id, run, _("The quote was accepted; its order was created."))


@login_required
@require_POST
def quote_reject(request: HttpRequest, quote_id: int) -> HttpResponse:
    def run() -> HttpResponse:
        services.quote_reject(
            actor=request.user, quote_id=quote_id, version=request.POST.get("version")
        )
        return redirect("sales:quote_detail", quote_id)

    return _action(request, quote_id, run, _("The quote was marked as rejected."))


@login_required
@require_POST
def quote_delete(request: HttpRequest, quote_id: int) -> HttpResponse:
    services.quote_delete(actor=request.user, quote_id=quote_id)
    messages.success(request, _("Moved to the trash. You can restore it from its page."))
    return redirect("sales:quote_list")


@login_required
@require_POST
def quote_restore(request: HttpRequest, quote_id: int) -> HttpResponse:
    services.quote_restore(actor=request.user, quote_id=quote_id)
    messages.success(request, _("Restored."))
    return redirect("sales:quote_detail", quote_id)


urlpatterns = [
    path("quotes/", quote_list, name="quote_list"),
    path("quotes/new/", quote_create, name="quote_create"),
    path("quotes/contact-options/", contact_options, name="quote_contact_options"),
    path("quotes/<int:quote_id>/", quote_detail, name="quote_detail"),
    path("quotes/<int:quote_id>/edit/", quote_edit, name="quote_edit"),
    path("quotes/<int:quote_id>/pdf/", quote_pdf_view, name="quote_pdf"),
    path("quotes/<int:quote_id>/send/", quote_send, name="quote_send"),
    path("quotes/<int:quote_id>/revise/", quote_revise, name="quote_revise"),
    path("quotes/<int:quote_id>/accept/", quote_accept, name="quote_accept"),
    path("quotes/<int:quote_id>/reject/", quote_reject, name="quote_reject"),
    path("quotes/<int:quote_id>/delete/", quote_delete, name="quote_delete"),
    path("quotes/<int:quote_id>/restore/", quote_restore, name="quote_restore"),
]
