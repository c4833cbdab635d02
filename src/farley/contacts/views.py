"""Pages for accounts and contacts: lists, 360 views, forms, trash, timeline and relationships."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from farley.contacts import privacy, selectors, services, transfer
from farley.contacts.models import (
    Account,
    AccountStatus,
    AddressKind,
    Channel,
    Contact,
    Direction,
    EmailKind,
    InteractionKind,
    PhoneKind,
    RelationshipType,
    Salutation,
    TimelineEntry,
)
from farley.core import audit, customfields, panels, permissions, sensitive, timeline
from farley.core import selectors as core_selectors
from farley.core import services as core_services
from farley.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from farley.core.prefetch import release
from farley.core.validation import country_choices, language_name
from farley.web.formdata import custom_values, rows, simple

COLUMNS = {
    "account": {
        "name": gettext_lazy("Name"),
        "customer_number": gettext_lazy("Customer no."),
        "status": gettext_lazy("Status"),
        "industry": gettext_lazy("Industry"),
        "postal_code": gettext_lazy("Postal code"),
        "city": gettext_lazy("City"),
        "country": gettext_lazy("Country"),
        "email": gettext_lazy("Email"),
        "phone": gettext_lazy("Phone"),
        "owner": gettext_lazy("Owner"),
        "team": gettext_lazy("Team"),
        "last_interaction": gettext_lazy("Last interaction"),
        "updated": gettext_lazy("Updated"),
    },
    "contact": {
        "name": gettext_lazy("Name"),
        "account": gettext_lazy("Account"),
        "job_title": gettext_lazy("Job title"),
        "email": gettext_lazy("Email"),
        "phone": gettext_lazy("Phone"),
        "postal_code": gettext_lazy("Postal code"),
        "city": gettext_lazy("City"),
        "country": gettext_lazy("Country"),
        "owner": gettext_lazy("Owner"),
        "team": gettext_lazy("Team"),
        "last_interaction": gettext_lazy("Last interaction"),
        "updated": gettext_lazy("Updated"),
    },
}
DEFAULT_COLUMNS = {
    "account": ["name", "customer_number", "status", "city", "phone", "owner"],
    "contact": ["name", "account", "email", "phone", "city", "owner"],
}
SORTABLE = {
    "name": "name",
    "city": "city",
    "postal_code": "postal_code",
    "customer_number": "customer_number",
    "last_interaction": "last_interaction",
    "updated": "updated",
}


def _denied(exc: Exception) -> HttpResponse:
    raise Http404 from exc


# --- lists ----------------------------------------------------------------------------------


def _record_list(request: HttpRequest, entity: str) -> HttpResponse:
    permissions.require(request.user, "view", entity)
    params = request.GET
    page = selectors.list_page(entity, request.user, params)
    definitions = sensitive.visible_definitions(
        request.user, entity, customfields.definitions_for(entity)
    )
    available = dict(COLUMNS[entity])
    for d in definitions:
        available[f"cf_{d.key}"] = d.display_label()
    columns = [c for c in params.getlist("cols") if c in available] or DEFAULT_COLUMNS[entity]
    prefetch_related_objects(page.items, "tags")
    context = {
        "nav": f"{entity}s",
        "entity": entity,
        "page": page,
        "items": page.items,
        "columns": [(c, available[c]) for c in columns],
        "available_columns": available.items(),
        "chosen": columns,
        "definitions": definitions,
        "sort": params.get("sort", "name"),
        "sortable": SORTABLE,
        "statuses": AccountStatus.choices,
        "params": params,
        "owners": core_selectors.user_choices(),
        "teams": core_selectors.team_choices(),
        "countries": country_choices(),
        "saved_views": core_selectors.saved_views_for(request.user, entity),
        "filter_count": sum(
            1 for k, v in params.items() if v and k not in ("cols", "sort", "cursor")
        ),
    }
    template = (
        "contacts/_list_table.html"
        if request.headers.get("HX-Request") == "true" and request.GET.get("partial")
        else "contacts/list.html"
    )
    response = render(request, template, context)
    release(page.items)
    return response


@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    return _record_list(request, "account")


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    return _record_list(request, "contact")


# --- import and export ----------------------------------------------------------------------

IMPORT_DIR = "imports"
IMPORT_MAX_AGE = 24 * 3600


def _filter_params(request: HttpRequest) -> dict[str, Any]:
    return {k: v for k, v in request.GET.items() if k not in ("cursor", "limit", "cols", "view")}


@login_required
def record_export(request: HttpRequest, entity: str, fmt: str) -> HttpResponse:
    """The filtered list as a CSV or Excel file (same records as on the screen)."""
    if fmt not in transfer.FORMATS:
        raise Http404
    try:
        # Like the list on the screen, the page's export ignores parameters it does not know.
        columns, rows = transfer.export_rows(
            entity, request.user, _filter_params(request), ignore_unknown=True
        )
    except ValidationFailed as exc:
        for messages_ in exc.fields.values():
            for message in messages_:
                messages.error(request, message)
        return redirect(f"contacts:{entity}_list")
    stem = f"{_('accounts') if entity == 'account' else _('contacts')}-{timezone.localdate()}"
    if fmt == "xlsx":
        title = _("Accounts") if entity == "account" else _("Contacts")
        response = HttpResponse(
            transfer.xlsx_bytes(columns, rows, title),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = StreamingHttpResponse(
            transfer.csv_chunks(columns, rows), content_type="text/csv; charset=utf-8"
        )
    response["Content-Disposition"] = f'attachment; filename="{stem}.{fmt}"'
    return response


def _import_store() -> Path:
    folder = Path(settings.VAR_DIR) / IMPORT_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    now = time.time()
    for old in folder.iterdir():  # uploads nobody confirmed
        if now - old.stat().st_mtime > IMPORT_MAX_AGE:
            old.unlink(missing_ok=True)
    return folder


@login_required
def record_import(request: HttpRequest, entity: str) -> HttpResponse:
    """Upload a CSV/Excel file, see what it would do (nothing written), then confirm."""
    context: dict[str, Any] = {
        "nav": f"{entity}s",
        "entity": entity,
        "columns": transfer.columns_for(entity, user=request.user),
        "max_rows": transfer.MAX_ROWS,
        "max_mb": transfer.MAX_BYTES // (1024 * 1024),
    }
    if request.method != "POST":
        return render(request, "contacts/import.html", context)
    token = request.POST.get("token", "")
    confirm = bool(re.fullmatch(r"[0-9a-f]{32}", token))
    store = _import_store()
    try:
        if confirm:
            path = store / f"{request.user.pk}-{token}"
            if not path.exists():
                raise transfer.FileProblem(_("This upload has expired; please upload it again."))
            name, content = request.POST.get("filename", ""), path.read_bytes()
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise transfer.FileProblem(_("Choose a CSV or Excel file."))
            if upload.size > transfer.MAX_BYTES:
                raise transfer.FileProblem(
                    _("The file is larger than %(size)d MB.") % {"size": context["max_mb"]}
                )
            name, content = upload.name, upload.read()
        table = transfer.read_table(name, content)
        result = transfer.import_table(
            actor=request.user, entity=entity, table=table, dry_run=not confirm
        )
    except ValidationFailed as exc:
        context["file_errors"] = exc.fields.get("file") or [
            m for v in exc.fields.values() for m in v
        ]
        return render(request, "contacts/import.html", context, status=422)
    except Forbidden as exc:
        context["file_errors"] = [exc.message]
        return render(request, "contacts/import.html", context, status=403)
    if confirm and not result.errors:
        (store / f"{request.user.pk}-{token}").unlink(missing_ok=True)
        messages.success(
            request,
            _("Imported: %(created)d new, %(updated)d updated.")
            % {"created": result.created, "updated": result.updated},
        )
        return redirect(f"contacts:{entity}_list")
    if not result.errors:
        token = uuid.uuid4().hex
        path = store / f"{request.user.pk}-{token}"
        path.write_bytes(content)
        path.chmod(0o600)
        context.update({"token": token, "filename": name})
    context.update({"result": result, "filename": name})
    return render(request, "contacts/import.html", context, status=422 if result.errors else 200)


@login_required
@require_POST
def saved_view_save(request: HttpRequest, entity: str) -> HttpResponse:
    target = reverse(f"contacts:{entity}_list")
    try:
        view = core_services.saved_view_create(
            actor=request.user,
            entity=entity,
            name=request.POST.get("name", ""),
            query=request.POST.get("query", ""),
            columns=[],
            team_id=request.POST.get("team_id") or None,
        )
    except ValidationFailed as exc:
        for message_list in exc.fields.values():
            for message in message_list:
                messages.error(request, message)
        return redirect(target + "?" + request.POST.get("query", ""))
    messages.success(request, _("The view was saved."))
    return redirect(target + "?" + view.query)


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, entity: str, view_id: int) -> HttpResponse:
    try:
        core_services.saved_view_delete(actor=request.user, view_id=view_id)
        messages.success(request, _("The view was deleted."))
    except NotFound:
        messages.error(request, _("Only the owner can delete a saved view."))
    return redirect("contacts:" + entity + "_list")


@login_required
def account_lookup(request: HttpRequest) -> HttpResponse:
    """Options for the account picker in the contact form (typed name → matching accounts)."""
    query = (
        request.GET.get("q")
        or request.GET.get("parent")
        or next((v for k, v in request.GET.items() if k.endswith("-account")), "")
    )
    query = query.strip()[:100]
    query = re.sub(r"\s*\[K\d+\]$", "", query)
    accounts = (
        selectors.accounts_visible_to(request.user)
        .filter(name__icontains=query)
        .order_by("name")[:15]
        if query
        else []
    )
    return render(request, "contacts/_account_options.html", {"accounts": accounts})


# --- 360 pages ------------------------------------------------------------------------------


TIMELINE_PAGE = 50
TIMELINE_MAX = 5000


def _shown(request: HttpRequest, name: str) -> int:
    """How many items of a growing list (timeline, history) to show: ``?name=``."""
    raw = request.GET.get(name, "")
    count = int(raw) if raw.isdigit() else TIMELINE_PAGE
    return max(TIMELINE_PAGE, min(count, TIMELINE_MAX))


def _timeline_context(request: HttpRequest, record: Account | Contact) -> dict[str, Any]:
    kinds = [k for k in request.GET.getlist("kind") if k in InteractionKind.values]
    show_changes = request.GET.get("changes", "1") != "0"
    shown = _shown(request, "shown")
    # One more than shown tells whether there is more to show.
    entries = selectors.timeline_of(request.user, record, kinds=kinds or None, limit=shown + 1)
    history = (
        selectors.record_history(record, request.user, limit=shown + 1)
        if show_changes and not kinds
        else []
    )
    items = [{"type": "entry", "at": e.occurred_at, "entry": e} for e in entries]
    items += [{"type": "change", "at": c.at, "change": c} for c in history]
    entity = "account" if isinstance(record, Account) else "contact"
    items += timeline.items_for(
        request.user, entity, record.pk, limit=shown + 1, kinds=kinds or None
    )
    items.sort(key=lambda i: i["at"], reverse=True)
    more = len(items) > shown
    week = timezone.localtime() + dt.timedelta(days=7)
    return {
        "timeline_entry_actions": timeline.entry_actions(),
        "follow_up_due": week.replace(hour=9, minute=0).strftime("%Y-%m-%dT%H:%M"),
        "timeline": items[:shown],
        "timeline_more": more,
        "timeline_next": shown + TIMELINE_PAGE,
        "kinds": InteractionKind.choices,
        "chosen_kinds": kinds,
        "show_changes": show_changes,
        "directions": Direction.choices,
        "record": record,
    }


def _detail(request: HttpRequest, entity: str, record: Account | Contact) -> HttpResponse:
    timeline = {"entity": entity, **_timeline_context(request, record)}
    if request.headers.get("HX-Request") == "true" and request.GET.get("partial") == "timeline":
        return render(request, "contacts/_timeline.html", timeline)
    context = {
        **timeline,
        "nav": f"{entity}s",
        "definitions": sensitive.visible_definitions(
            request.user, entity, customfields.definitions_for(entity)
        ),
        "relationships": selectors.relationships_of(request.user, record),
        "relationship_types": RelationshipType.objects.all(),
        "history": selectors.record_history(
            record, request.user, limit=_shown(request, "history") + 1
        ),
        "panels_main": panels.panels_for(entity, request.user, record, "main"),
        "panels_side": panels.panels_for(entity, request.user, record, "side"),
        "history_shown": _shown(request, "history"),
    }
    return render(request, f"contacts/{entity}_detail.html", context)


@login_required
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    try:
        account = selectors.account_detail(request.user, account_id, include_deleted=True)
    except NotFound as exc:
        return _denied(exc)
    return _detail(request, "account", account)


@login_required
def contact_detail(request: HttpRequest, contact_id: int) -> HttpResponse:
    try:
        contact = selectors.contact_detail(request.user, contact_id, include_deleted=True)
    except NotFound as exc:
        return _denied(exc)
    if request.headers.get("HX-Request") != "true":
        audit.log_record_view(request.user, "contact", contact.pk)
    return _detail(request, "contact", contact)


# --- forms ----------------------------------------------------------------------------------

ACCOUNT_SIMPLE = [*services.ACCOUNT_FIELDS, "owner_id", "team_id"]
CONTACT_SIMPLE = [*services.CONTACT_FIELDS, "owner_id", "team_id"]


def _account_from_text(request: HttpRequest, text: str) -> Account | None:
    """The account a picker field names: "Name [K000123]" or a unique exact name."""
    match = re.search(r"\[(K\d+)\]\s*$", text)
    visible = selectors.accounts_visible_to(request.user)
    account = visible.filter(customer_number=match.group(1)).first() if match else None
    if account is None and text:
        candidates = list(visible.filter(name__iexact=text)[:2])
        account = candidates[0] if len(candidates) == 1 else None
    return account


def _account_links_from_post(request: HttpRequest) -> list[dict[str, Any]]:
    links = []
    for row in rows(request.POST, "account_links", "account"):
        text = row.get("account", "").strip()
        account = _account_from_text(request, text)
        links.append(
            {
                "account_id": account.pk if account else 0,
                "role": row.get("role", ""),
                "_label": text,
            }
        )
    return links


def _form_data(request: HttpRequest, entity: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    post = request.POST
    data = simple(post, ACCOUNT_SIMPLE if entity == "account" else CONTACT_SIMPLE)
    for key in ("owner_id", "team_id"):
        if key in data and data[key] == "":
            data[key] = None
    if entity == "account" and "parent" in post:
        text = post.get("parent", "").strip()
        parent = _account_from_text(request, text) if text else None
        data["parent_id"] = (parent.pk if parent else 0) if text else None
    data["emails"] = rows(post, "emails", "address")
    data["phones"] = rows(post, "phones", "number")
    data["addresses"] = rows(post, "addresses", "street,house_number,postal_code,city")
    data["tags"] = post.get("tags", "")
    data["custom"] = custom_values(
        post,
        sensitive.visible_definitions(request.user, entity, customfields.definitions_for(entity)),
    )
    links: list[dict[str, Any]] = []
    if entity == "contact":
        links = _account_links_from_post(request)
        data["account_links"] = [
            {k: v for k, v in link.items() if not k.startswith("_")} for link in links
        ]
    return data, links


def _initial(record: Account | Contact | None, entity: str, user: Any) -> dict[str, Any]:
    if record is None:
        return {
            "status": "prospect",
            "revenue_currency": "EUR",
            "emails": [{}],
            "phones": [{}],
            "addresses": [{"country": "DE"}],
            "custom": {},
            "tags": "",
            "account_links": [],
        }
    fields = ACCOUNT_SIMPLE if entity == "account" else CONTACT_SIMPLE
    values = {f: getattr(record, f) for f in fields}
    if entity == "account" and record.parent_id:
        values["parent"] = f"{record.parent.name} [{record.parent.customer_number}]"
    values["emails"] = [{"address": e.address, "kind": e.kind} for e in record.emails.all()]
    values["phones"] = [
        {"number": p.number, "kind": p.kind}
        for p in sensitive.visible_phones(user, entity, record.phones.all())
    ]
    values["addresses"] = [
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
        for a in record.addresses.all()
    ]
    values["tags"] = ", ".join(sorted(t.name for t in record.tags.all()))
    values["custom"] = dict(record.custom)
    if entity == "contact":
        values["account_links"] = [
            {"account": f"{link.account.name} [{link.account.customer_number}]", "role": link.role}
            for link in record.account_links.all()
        ]
    if values.get("birthday"):
        values["birthday"] = values["birthday"].isoformat()
    return values


def _record_form(request: HttpRequest, entity: str, record_id: int | None = None) -> HttpResponse:
    record = None
    if record_id is not None:
        try:
            record = (
                selectors.account_detail if entity == "account" else selectors.contact_detail
            )(request.user, record_id)
        except NotFound as exc:
            return _denied(exc)
    values, errors, status = _initial(record, entity, request.user), {}, 200
    if record is None and entity == "contact" and request.GET.get("account", "").isdigit():
        # "New contact" on an account's page: linked to that account from the start.
        account = (
            selectors.accounts_visible_to(request.user).filter(pk=request.GET["account"]).first()
        )
        if account is not None:
            values["account_links"] = [
                {"account": f"{account.name} [{account.customer_number}]", "role": ""}
            ]
    if request.method == "POST":
        data, links = _form_data(request, entity)
        try:
            if entity == "account":
                if record is None:
                    saved = services.account_create(actor=request.user, data=data)
                else:
                    saved = services.account_update(
                        actor=request.user,
                        account_id=record.pk,
                        data=data,
                        version=request.POST.get("version"),
                    )
            else:
                if record is None:
                    saved = services.contact_create(actor=request.user, data=data)
                else:
                    saved = services.contact_update(
                        actor=request.user,
                        contact_id=record.pk,
                        data=data,
                        version=request.POST.get("version"),
                    )
        except ValidationFailed as exc:
            errors, status = exc.fields, 422
        except Forbidden as exc:
            messages.error(request, exc.message)
            errors, status = {"": [exc.message]}, 403
        except NotFound as exc:
            return _denied(exc)
        except Conflict:
            # Keep what the user typed; the form now carries the current version, so saving
            # again replaces the other person's change, which the message says.
            errors, status = (
                {
                    "": [
                        _(
                            "Someone else saved this record while you were editing it. Your input "
                            "is still here; saving again replaces their changes. Open the record in "
                            "another tab to compare."
                        )
                    ]
                },
                409,
            )
        else:
            messages.success(request, _("Saved."))
            return redirect(f"contacts:{entity}_detail", saved.pk)
        values = {**data, "tags": request.POST.get("tags", "")}
        values["custom"] = data["custom"]
        if entity == "contact":
            values["account_links"] = [
                {"account": link["_label"], "role": link["role"]} for link in links
            ]
        for key in ("emails", "phones", "addresses"):
            values[key] = data[key]
    custom_defs = sensitive.visible_definitions(
        request.user, entity, customfields.definitions_for(entity)
    )
    may_see_sensitive = sensitive.may_see(request.user, entity)
    context = {
        "nav": f"{entity}s",
        "entity": entity,
        "record": record,
        "values": values,
        "may_see_sensitive": may_see_sensitive,
        "errors": errors,
        "definitions": custom_defs,
        "statuses": AccountStatus.choices,
        "salutations": Salutation.choices,
        "channels": Channel.choices,
        "email_kinds": EmailKind.choices,
        "phone_kinds": [
            (k, label)
            for k, label in PhoneKind.choices
            if may_see_sensitive or k != sensitive.PRIVATE_PHONE
        ],
        "address_kinds": AddressKind.choices,
        "countries": country_choices(),
        "owners": core_selectors.user_choices(),
        "teams": core_selectors.team_choices(),
        # Every language the services accept, named in the user's language: an edit never
        # drops a value the form could not show.
        "languages": [
            ("", "–"),
            *sorted(
                ((code, language_name(code)) for code in services.LANGUAGE_CODES if code),
                key=lambda pair: pair[1].casefold(),
            ),
        ],
        "conflict": status == 409,
    }
    return render(request, "contacts/form.html", context, status=status)


def _conflict_wrapper(view):
    from functools import wraps

    from farley.core.errors import Conflict

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Conflict:
            messages.error(
                request,
                _(
                    "This record was changed by someone else while you edited it. Your changes were not saved; the form now shows the current data."
                ),
            )
            return redirect(request.path)

    return wrapped


@login_required
def account_create(request: HttpRequest) -> HttpResponse:
    return _record_form(request, "account")


@login_required
@_conflict_wrapper
def account_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    return _record_form(request, "account", account_id)


@login_required
def contact_create(request: HttpRequest) -> HttpResponse:
    return _record_form(request, "contact")


@login_required
@_conflict_wrapper
def contact_edit(request: HttpRequest, contact_id: int) -> HttpResponse:
    return _record_form(request, "contact", contact_id)


# --- delete, restore, trash -----------------------------------------------------------------


@login_required
@require_POST
def record_delete(request: HttpRequest, entity: str, record_id: int) -> HttpResponse:
    delete = services.account_delete if entity == "account" else services.contact_delete
    try:
        delete(actor=request.user, **{f"{entity}_id": record_id})
    except NotFound as exc:
        return _denied(exc)
    except Forbidden as exc:
        messages.error(request, exc.message)
        return redirect(f"contacts:{entity}_detail", record_id)
    messages.success(request, _("Moved to the trash. You can restore it from there."))
    return redirect(f"contacts:{entity}_list")


@login_required
@require_POST
def record_restore(request: HttpRequest, entity: str, record_id: int) -> HttpResponse:
    """Restore a deleted record of any registered entity (from the trash)."""
    from farley.core import entities

    if entity not in entities.registered_keys() or entities.get(entity).restore is None:
        raise Http404
    registered = entities.get(entity)
    try:
        registered.restore(actor=request.user, **{f"{entity}_id": record_id})
    except NotFound as exc:
        return _denied(exc)
    except Forbidden as exc:
        messages.error(request, exc.message)
        return redirect("contacts:trash")
    messages.success(request, _("Restored."))
    return redirect(registered.url_name, record_id)


@login_required
def trash(request: HttpRequest) -> HttpResponse:
    context = {
        "nav": "trash",
        "records": selectors.trash(request.user),
        "entries": selectors.trashed_timeline_entries(request.user),
    }
    return render(request, "contacts/trash.html", context)


@login_required
def privacy_export(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Download everything stored about a contact (ZIP with data.json)."""
    response = HttpResponse(
        privacy.access_export_zip(actor=request.user, contact_id=contact_id),
        content_type="application/zip",
    )
    response["Content-Disposition"] = f'attachment; filename="contact-{contact_id}-data.zip"'
    return response


@login_required
@require_POST
def privacy_erase(request: HttpRequest, contact_id: int) -> HttpResponse:
    privacy.erase(actor=request.user, contact_id=contact_id)
    messages.success(request, _("The personal data of this contact was erased."))
    return redirect("contacts:contact_detail", contact_id)


@login_required
@require_POST
def timeline_restore(request: HttpRequest, entry_id: int) -> HttpResponse:
    try:
        entry = services.timeline_entry_restore(actor=request.user, entry_id=entry_id)
    except NotFound as exc:
        return _denied(exc)
    except Forbidden as exc:
        messages.error(request, exc.message)
        return redirect("contacts:trash")
    messages.success(request, _("Restored."))
    if entry.contact_id:
        return redirect("contacts:contact_detail", entry.contact_id)
    return redirect("contacts:account_detail", entry.account_id)


# --- timeline and relationships (htmx) ------------------------------------------------------


def _record_for(request: HttpRequest, entity: str, record_id: int) -> Account | Contact:
    try:
        if entity == "account":
            return selectors.account_detail(request.user, record_id)
        return selectors.contact_detail(request.user, record_id)
    except NotFound as exc:
        raise Http404 from exc


@login_required
@require_POST
def timeline_add(request: HttpRequest, entity: str, record_id: int) -> HttpResponse:
    record = _record_for(request, entity, record_id)
    data = simple(request.POST, ["kind", "direction", "subject", "body", "occurred_at"])
    data[f"{entity}_id"] = record.pk
    errors: dict = {}
    try:
        services.timeline_entry_create(actor=request.user, data=data)
    except ValidationFailed as exc:
        errors = exc.fields
    except Forbidden as exc:
        errors = {"subject": [exc.message]}
    if request.headers.get("HX-Request") != "true":
        if errors:
            for message_list in errors.values():
                for message in message_list:
                    messages.error(request, message)
        return redirect(f"contacts:{entity}_detail", record.pk)
    context = {
        "entity": entity,
        **_timeline_context(request, record),
        "entry_errors": errors,
        "entry_values": data if errors else {},
    }
    return render(request, "contacts/_timeline_block.html", context, status=422 if errors else 200)


def _timeline_entry_for(
    request: HttpRequest, entity: str, record: Account | Contact, entry_id: int
) -> TimelineEntry:
    entry = selectors.timeline_entry_on(request.user, record, entry_id)
    if entry is None:
        raise Http404
    return entry


def _timeline_block(request: HttpRequest, entity: str, record: Account | Contact) -> HttpResponse:
    context = {"entity": entity, **_timeline_context(request, record)}
    return render(request, "contacts/_timeline_block.html", context)


@login_required
def timeline_edit(request: HttpRequest, entity: str, record_id: int, entry_id: int) -> HttpResponse:
    """Correct a timeline entry in place (htmx) or on its own page (without JavaScript)."""
    record = _record_for(request, entity, record_id)
    entry = _timeline_entry_for(request, entity, record, entry_id)
    inline = request.headers.get("HX-Request") == "true"
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        values = simple(
            request.POST, ["kind", "direction", "subject", "body", "body_format", "occurred_at"]
        )
        try:
            services.timeline_entry_update(
                actor=request.user,
                entry_id=entry.pk,
                data=values,
                version=request.POST.get("version"),
            )
        except ValidationFailed as exc:
            errors, status = exc.fields, 422
        except (Conflict, Forbidden) as exc:
            errors, status = {"": [exc.message]}, exc.status
        else:
            if inline:
                return _timeline_block(request, entity, record)
            return redirect(f"contacts:{entity}_detail", record.pk)
    context = {
        "entity": entity,
        "record": record,
        "entry": entry,
        "values": values,
        "errors": errors,
        "kinds": InteractionKind.choices,
        "directions": Direction.choices,
        "inline": inline,
    }
    template = (
        "contacts/_timeline_entry_form.html" if inline else "contacts/timeline_entry_edit.html"
    )
    response = render(request, template, context, status=status)
    if inline and errors:
        # The form, not the whole timeline, shows the errors.
        response["HX-Retarget"] = f"#entry-{entry.pk}"
        response["HX-Reswap"] = "outerHTML"
    return response


@login_required
@require_POST
def timeline_delete(
    request: HttpRequest, entity: str, record_id: int, entry_id: int
) -> HttpResponse:
    record = _record_for(request, entity, record_id)
    entry = _timeline_entry_for(request, entity, record, entry_id)
    try:
        services.timeline_entry_delete(actor=request.user, entry_id=entry.pk)
    except Forbidden as exc:
        messages.error(request, exc.message)
    if request.headers.get("HX-Request") == "true":
        return _timeline_block(request, entity, record)
    messages.success(request, _("The entry was removed from the timeline."))
    return redirect(f"contacts:{entity}_detail", record.pk)


@login_required
@require_POST
def relationship_add(request: HttpRequest, entity: str, record_id: int) -> HttpResponse:
    record = _record_for(request, entity, record_id)
    target = (request.POST.get("target") or "").strip()
    match = re.fullmatch(r"(account|contact):(\d+)", target)
    data = {
        "type": request.POST.get("type", ""),
        "from_type": entity,
        "from_id": record.pk,
        "to_type": match.group(1) if match else "",
        "to_id": match.group(2) if match else None,
        "note": request.POST.get("note", ""),
    }
    try:
        services.relationship_create(actor=request.user, data=data)
        messages.success(request, _("The relationship was added."))
    except ValidationFailed as exc:
        for message_list in exc.fields.values():
            for message in message_list:
                messages.error(request, message)
    except Forbidden as exc:
        messages.error(request, exc.message)
    return redirect(reverse(f"contacts:{entity}_detail", args=[record.pk]) + "#relationships")


@login_required
@require_POST
def relationship_remove(
    request: HttpRequest, entity: str, record_id: int, relationship_id: int
) -> HttpResponse:
    _record_for(request, entity, record_id)
    try:
        services.relationship_delete(actor=request.user, relationship_id=relationship_id)
        messages.success(request, _("The relationship was removed."))
    except (NotFound, Forbidden):
        messages.error(request, _("This relationship cannot be removed."))
    return redirect(reverse(f"contacts:{entity}_detail", args=[record_id]) + "#relationships")


@login_required
def relationship_targets(request: HttpRequest) -> HttpResponse:
    """Options for the relationship picker: accounts and contacts matching the typed text."""
    from farley.core.search import search

    hits = search(request.user, (request.GET.get("q") or "")[:100], limit=10)
    return render(request, "contacts/_relationship_options.html", {"hits": hits})
