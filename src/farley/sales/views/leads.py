"""Pages: leads (list, form, detail, status, conversion, import/export, trash) and the
lead-assignment rules under the settings."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from farley.contacts import selectors as contact_selectors
from farley.contacts import transfer
from farley.contacts.models import Account, Salutation
from farley.core import customfields, panels, permissions, sensitive
from farley.core import selectors as core_selectors
from farley.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from farley.core.validation import country_choices
from farley.sales.models import (
    AssignmentMethod,
    AssignmentRule,
    Lead,
    LeadSource,
    LeadStatus,
    Pipeline,
)
from farley.sales.selectors import leads as selectors
from farley.sales.services import leads as services
from farley.web.formdata import custom_values, simple

COLUMNS = {
    "name": gettext_lazy("Name"),
    "company": gettext_lazy("Company"),
    "status": gettext_lazy("Status"),
    "source": gettext_lazy("Source"),
    "email": gettext_lazy("Email"),
    "phone": gettext_lazy("Phone"),
    "postal_code": gettext_lazy("Postal code"),
    "city": gettext_lazy("City"),
    "country": gettext_lazy("Country"),
    "value": gettext_lazy("Estimated value"),
    "owner": gettext_lazy("Owner"),
    "team": gettext_lazy("Team"),
    "created": gettext_lazy("Created"),
    "updated": gettext_lazy("Updated"),
}
DEFAULT_COLUMNS = ["name", "company", "status", "source", "email", "owner", "created"]
SORTABLE = {
    "name": "name",
    "company": "company",
    "status": "status",
    "created": "created",
    "updated": "updated",
}
FORM_FIELDS = [*services.LEAD_FIELDS, "owner_id", "team_id"]
IMPORT_DIR = "imports"
IMPORT_MAX_AGE = 24 * 3600


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _lead(request: HttpRequest, lead_id: int, *, include_deleted: bool = False) -> Lead:
    try:
        return selectors.lead_detail(request.user, lead_id, include_deleted=include_deleted)
    except NotFound as exc:
        raise Http404 from exc


def _maybe_url(name: str, pk: int | None) -> str:
    if pk is None:
        return ""
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


# --- list, export, import -------------------------------------------------------------------


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "view", "lead")
    params = request.GET
    page = selectors.list_page(request.user, params)
    definitions = sensitive.visible_definitions(
        request.user, "lead", customfields.definitions_for("lead")
    )
    available = dict(COLUMNS)
    for d in definitions:
        available[f"cf_{d.key}"] = d.display_label()
    columns = [c for c in params.getlist("cols") if c in available] or DEFAULT_COLUMNS
    context = {
        "nav": "leads",
        "page": page,
        "items": page.items,
        "columns": [(c, available[c]) for c in columns],
        "available_columns": available.items(),
        "chosen": columns,
        "definitions": definitions,
        "sort": params.get("sort", selectors.DEFAULT_SORT),
        "sortable": SORTABLE,
        "statuses": LeadStatus.choices,
        "sources": LeadSource.choices,
        "params": params,
        "owners": core_selectors.user_choices(),
        "teams": core_selectors.team_choices(),
        "countries": country_choices(),
        "may_rules": permissions.can(request.user, "administer", "opportunity"),
        "filter_count": sum(
            1 for k, v in params.items() if v and k not in ("cols", "sort", "cursor")
        ),
    }
    return render(request, "sales/leads/list.html", context)


def _filter_params(request: HttpRequest) -> dict[str, Any]:
    return {k: v for k, v in request.GET.items() if k not in ("cursor", "limit", "cols")}


@login_required
def lead_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The filtered lead list as a CSV or Excel file (the same leads as on the screen)."""
    if fmt not in transfer.FORMATS:
        raise Http404
    try:
        columns, rows = selectors.export_rows(
            request.user, _filter_params(request), ignore_unknown=True
        )
    except ValidationFailed as exc:
        for messages_ in exc.fields.values():
            for message in messages_:
                messages.error(request, message)
        return redirect("sales:lead_list")
    stem = f"{_('leads')}-{timezone.localdate()}"
    if fmt == "xlsx":
        response = HttpResponse(
            transfer.xlsx_bytes(columns, rows, str(_("Leads"))),
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
    folder.mkdir(mode=0o700, exist_ok=True, parents=True)
    now = time.time()
    for old in folder.glob("lead-*"):  # uploads nobody confirmed
        if now - old.stat().st_mtime > IMPORT_MAX_AGE:
            old.unlink(missing_ok=True)
    return folder


@login_required
def lead_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV/Excel file, see what it would do (nothing saved), then confirm."""
    context: dict[str, Any] = {
        "nav": "leads",
        "columns": selectors.lead_columns(request.user),
        "max_rows": transfer.MAX_ROWS,
        "max_mb": transfer.MAX_BYTES // (1024 * 1024),
    }
    if request.method != "POST":
        return render(request, "sales/leads/import.html", context)
    token = request.POST.get("token", "")
    confirm = bool(re.fullmatch(r"[0-9a-f]{32}", token))
    store = _import_store()
    stored = store / f"lead-{request.user.pk}-{token}"
    try:
        if confirm:
            if not stored.exists():
                raise transfer.FileProblem(_("This upload has expired; please upload it again."))
            name, content = request.POST.get("filename", ""), stored.read_bytes()
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
        result = services.import_table(actor=request.user, table=table, dry_run=not confirm)
    except ValidationFailed as exc:
        context["file_errors"] = exc.fields.get("file") or [
            m for v in exc.fields.values() for m in v
        ]
        return render(request, "sales/leads/import.html", context, status=422)
    except Forbidden as exc:
        context["file_errors"] = [exc.message]
        return render(request, "sales/leads/import.html", context, status=403)
    if confirm and not result.errors:
        stored.unlink(missing_ok=True)
        messages.success(
            request,
            _("Imported: %(created)d new, %(updated)d updated.")
            % {"created": result.created, "updated": result.updated},
        )
        return redirect("sales:lead_list")
    if not result.errors:
        token = uuid.uuid4().hex
        kept = store / f"lead-{request.user.pk}-{token}"
        kept.write_bytes(content)
        kept.chmod(0o600)
        context["token"] = token
    context.update({"result": result, "filename": name})
    return render(request, "sales/leads/import.html", context, status=422 if result.errors else 200)


@login_required
def lead_trash(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "view", "lead")
    context = {"nav": "leads", "leads": selectors.trash(request.user)}
    return render(request, "sales/leads/trash.html", context)


# --- form -----------------------------------------------------------------------------------


def _international(e164: str) -> str:
    import phonenumbers

    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _initial(lead: Lead | None) -> dict[str, Any]:
    if lead is None:
        return {"source": LeadSource.OTHER, "status": LeadStatus.NEW, "currency": "EUR",
                "country": "DE", "custom": {}}  # fmt: skip
    values = {f: getattr(lead, f) for f in FORM_FIELDS}
    # International, so that it reads back the same whatever the lead's country.
    values["phone"] = _international(lead.phone)
    values["custom"] = dict(lead.custom)
    return values


def _form_context(request: HttpRequest, lead: Lead | None) -> dict[str, Any]:
    return {
        "nav": "leads",
        "lead": lead,
        "definitions": sensitive.visible_definitions(
            request.user, "lead", customfields.definitions_for("lead")
        ),
        "salutations": Salutation.choices,
        "sources": LeadSource.choices,
        "statuses": [
            (k, label)
            for k, label in LeadStatus.choices
            if k != LeadStatus.CONVERTED or (lead and lead.status == k)
        ],
        "countries": country_choices(),
        "owners": core_selectors.user_choices(),
        "teams": core_selectors.team_choices(),
    }


def _lead_form(request: HttpRequest, lead: Lead | None) -> HttpResponse:
    values, errors, status = _initial(lead), {}, 200
    if request.method == "POST":
        data = simple(request.POST, FORM_FIELDS)
        for key in ("owner_id", "team_id"):
            if key in data and data[key] == "":
                data[key] = None
        if lead is None and data.get("owner_id") is None:
            data.pop("owner_id", None)  # "(automatic)": the assignment rules decide
        data["custom"] = custom_values(
            request.POST,
            sensitive.visible_definitions(
                request.user, "lead", customfields.definitions_for("lead")
            ),
        )
        try:
            if lead is None:
                saved = services.lead_create(actor=request.user, data=data)
            else:
                saved = services.lead_update(
                    actor=request.user,
                    lead_id=lead.pk,
                    data=data,
                    version=request.POST.get("version"),
                )
        except ValidationFailed as exc:
            errors, status = exc.fields, 422
        except Forbidden as exc:
            errors, status = {"": [exc.message]}, 403
        except NotFound as exc:
            raise Http404 from exc
        except Conflict:
            errors, status = (
                {"": [_("Someone else saved this lead while you were editing it. Your input "
                        "is still here; saving again replaces their changes.")]},
                409,
            )  # fmt: skip
            lead = _lead(request, lead.pk)
        else:
            messages.success(request, _("Saved."))
            if selectors.leads_visible_to(request.user).filter(pk=saved.pk).exists():
                return redirect("sales:lead_detail", saved.pk)
            messages.info(
                request,
                _("The assignment rules gave the lead to %(owner)s (%(team)s).")
                % {"owner": saved.owner, "team": saved.team or "–"},
            )
            return redirect("sales:lead_list")
        values = {**data}
    context = {**_form_context(request, lead), "values": values, "errors": errors}
    return render(request, "sales/leads/form.html", context, status=status)


@login_required
def lead_create(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "create", "lead")
    return _lead_form(request, None)


@login_required
def lead_edit(request: HttpRequest, lead_id: int) -> HttpResponse:
    return _lead_form(request, _lead(request, lead_id))


# --- detail, status, delete -----------------------------------------------------------------


def _history_shown(request: HttpRequest) -> int:
    raw = request.GET.get("history", "")
    return max(50, min(int(raw) if raw.isdigit() else 50, 5000))


@login_required
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = _lead(request, lead_id, include_deleted=True)
    user = request.user
    shown = _history_shown(request)
    may_edit = (
        permissions.can(user, "edit", "lead")
        and lead.deleted_at is None
        and selectors.leads_visible_to(user, for_edit=True).filter(pk=lead.pk).exists()
    )
    open_lead = lead.status not in (LeadStatus.CONVERTED,) and lead.deleted_at is None
    account = lead.converted_account
    contact = lead.converted_contact
    context = {
        "nav": "leads",
        "lead": lead,
        "record": lead,
        "may_edit": may_edit,
        "may_convert": may_edit and open_lead and lead.status != LeadStatus.DISQUALIFIED,
        "history": selectors.lead_history(lead, user, limit=shown + 1),
        "history_shown": shown,
        "definitions": sensitive.visible_definitions(
            user, "lead", customfields.definitions_for("lead")
        ),
        "duplicates": selectors.duplicates_of(user, lead)
        if open_lead and lead.status != LeadStatus.DISQUALIFIED
        else None,
        "account_visible": account is not None
        and contact_selectors.accounts_visible_to(user).filter(pk=account.pk).exists(),
        "contact_visible": contact is not None
        and contact_selectors.contacts_visible_to(user).filter(pk=contact.pk).exists(),
        "opportunity_url": _maybe_url("sales:opportunity_detail", lead.converted_opportunity_id),
        "panels_side": panels.panels_for("lead", user, lead, "side"),
        "panels_main": panels.panels_for("lead", user, lead, "main"),
    }
    return render(request, "sales/leads/detail.html", context)


@login_required
@require_POST
def lead_status(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Mark a lead contacted or qualified, disqualify it (with a reason) or reopen it."""
    lead = _lead(request, lead_id)
    data = {"status": request.POST.get("status", "")}
    if data["status"] == LeadStatus.DISQUALIFIED:
        data["disqualify_reason"] = request.POST.get("disqualify_reason", "")
    try:
        services.lead_update(
            actor=request.user, lead_id=lead.pk, data=data, version=request.POST.get("version")
        )
    except ValidationFailed as exc:
        for message_list in exc.fields.values():
            for message in message_list:
                messages.error(request, message)
    except (Forbidden, Conflict) as exc:
        messages.error(request, exc.message)
    except NotFound as exc:
        raise Http404 from exc
    else:
        messages.success(request, _("The status was changed."))
    return redirect("sales:lead_detail", lead.pk)


@login_required
@require_POST
def lead_delete(request: HttpRequest, lead_id: int) -> HttpResponse:
    try:
        services.lead_delete(actor=request.user, lead_id=lead_id)
    except NotFound as exc:
        raise Http404 from exc
    except Forbidden as exc:
        messages.error(request, exc.message)
        return redirect("sales:lead_detail", lead_id)
    messages.success(request, _("Moved to the trash. You can restore it from there."))
    return redirect("sales:lead_list")


@login_required
@require_POST
def lead_restore(request: HttpRequest, lead_id: int) -> HttpResponse:
    try:
        services.lead_restore(actor=request.user, lead_id=lead_id)
    except NotFound as exc:
        raise Http404 from exc
    except Forbidden as exc:
        messages.error(request, exc.message)
        return redirect("sales:lead_trash")
    messages.success(request, _("Restored."))
    return redirect("sales:lead_detail", lead_id)


# --- conversion -----------------------------------------------------------------------------


def _account_from_text(request: HttpRequest, text: str) -> Account | None:
    """The account a picker names: "Name [K000123]" or a unique exact name."""
    match = re.search(r"\[(K\d+)\]\s*$", text)
    visible = contact_selectors.accounts_visible_to(request.user)
    account = visible.filter(customer_number=match.group(1)).first() if match else None
    if account is None and text:
        candidates = list(visible.filter(name__iexact=text)[:2])
        account = candidates[0] if len(candidates) == 1 else None
    return account


SHOWN_ERRORS = {
    "account_id",
    "account_name",
    "contact_id",
    "opportunity.name",
    "opportunity.amount",
    "opportunity.currency",
    "opportunity.pipeline_id",
    "opportunity.expected_close_date",
}


@login_required
def lead_convert(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Check for duplicates, choose what to link or create, convert in one step."""
    lead = _lead(request, lead_id)
    if not selectors.leads_visible_to(request.user, for_edit=True).filter(pk=lead.pk).exists():
        raise Http404
    if lead.status == LeadStatus.CONVERTED:
        messages.info(request, _("This lead was converted already."))
        return redirect("sales:lead_detail", lead.pk)
    post = request.POST
    errors: dict[str, list[str]] = {}
    status = 200
    has_person = bool(lead.first_name or lead.last_name)
    if request.method == "POST":
        account_choice = post.get("account", "")
        contact_choice = post.get("contact", "") if has_person else "new"
        data: dict[str, Any] = {
            "create_anyway": bool(account_choice) and bool(contact_choice),
        }
        if account_choice.isdigit():
            data["account_id"] = account_choice
        elif account_choice == "other":
            account = _account_from_text(request, post.get("account_other", "").strip())
            if account is None:
                errors["account_id"] = [_("Choose an account from the list.")]
            else:
                data["account_id"] = account.pk
        elif account_choice == "new":
            data["account_name"] = post.get("account_name", "")
        if contact_choice.isdigit():
            data["contact_id"] = contact_choice
        if post.get("create_opportunity"):
            data["opportunity"] = {
                key: post.get(f"opportunity_{key}", "")
                for key in ("name", "amount", "currency", "pipeline_id", "expected_close_date")
            }
        if not errors:
            try:
                result = services.lead_convert(
                    actor=request.user, lead_id=lead.pk, data=data, version=post.get("version")
                )
            except ValidationFailed as exc:
                errors = exc.fields
            except (Forbidden, Conflict) as exc:
                errors = {"": [exc.message]}
            else:
                messages.success(
                    request,
                    _("The lead was converted into %(what)s.")
                    % {
                        "what": ", ".join(
                            str(r)
                            for r in (result.account, result.contact, result.opportunity)
                            if r is not None
                        )
                    },
                )
                return redirect("sales:lead_detail", lead.pk)
        status = 422
        lead = _lead(request, lead.pk)
    duplicates = selectors.duplicates_of(request.user, lead)
    values = post if request.method == "POST" else {}
    context = {
        "nav": "leads",
        "lead": lead,
        "has_person": has_person,
        "duplicates": duplicates,
        "errors": errors,
        "other_errors": [
            message
            for key, messages_ in errors.items()
            if key not in SHOWN_ERRORS
            for message in messages_
        ],
        "values": values,
        "account_choice": values.get("account")
        if values
        else ("" if duplicates.accounts else "new"),
        "contact_choice": values.get("contact")
        if values
        else ("" if duplicates.contacts else "new"),
        "pipelines": Pipeline.objects.filter(active=True).order_by("-is_default", "order", "name"),
        "default_opportunity_name": lead.company_name or lead.full_name,
    }
    return render(request, "sales/leads/convert.html", context, status=status)


# --- assignment rules -----------------------------------------------------------------------


def _require_rules(request: HttpRequest) -> None:
    if not permissions.can(request.user, "administer", "opportunity"):
        raise PermissionDenied


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    _require_rules(request)
    context = {"nav": "settings", "rules": list(selectors.assignment_rules())}
    return render(request, "sales/leads/rules.html", context)


RULE_FORM_FIELDS = [
    "name",
    "order",
    "method",
    "team_id",
    "user_id",
    "postal_code_from",
    "postal_code_to",
    "industry_prefix",
]


@login_required
def rule_form(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    _require_rules(request)
    rule = None
    if rule_id is not None:
        rule = selectors.assignment_rules().filter(pk=rule_id).first()
        if rule is None:
            raise Http404
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and rule is not None and request.POST.get("delete"):
        services.rule_delete(actor=request.user, rule_id=rule.pk)
        messages.success(request, _("The rule was deleted."))
        return redirect("sales:lead_rules")
    if request.method == "POST":
        post = request.POST
        data: dict[str, Any] = simple(post, RULE_FORM_FIELDS)
        data["active"] = "active" in post
        data["countries"] = post.get("countries", "")
        data["sources"] = post.getlist("sources")
        try:
            if rule is None:
                services.rule_create(actor=request.user, data=data)
            else:
                services.rule_update(actor=request.user, rule_id=rule.pk, data=data)
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            messages.success(request, _("The rule was saved."))
            return redirect("sales:lead_rules")
        values: dict[str, Any] = {**data}
    elif rule is not None:
        values = {
            "name": rule.name,
            "order": rule.order,
            "active": rule.active,
            "method": rule.method,
            "team_id": rule.team_id,
            "user_id": rule.user_id or "",
            "countries": rule.countries,
            "postal_code_from": rule.postal_code_from,
            "postal_code_to": rule.postal_code_to,
            "industry_prefix": rule.industry_prefix,
            "sources": services._listed(rule.sources),
        }
    else:
        next_order = (AssignmentRule.objects.order_by("-order").values_list("order", flat=True)
                      .first() or 0) + 10  # fmt: skip
        values = {"order": next_order, "active": True, "method": AssignmentMethod.ROUND_ROBIN,
                  "sources": []}  # fmt: skip
    context = {
        "nav": "settings",
        "rule": rule,
        "values": values,
        "errors": errors,
        "methods": AssignmentMethod.choices,
        "sources": LeadSource.choices,
        "teams": core_selectors.teams_all(),
        "users": core_selectors.users_active(),
    }
    return render(request, "sales/leads/rule_form.html", context, status=422 if errors else 200)


@login_required
@require_POST
def rule_move(request: HttpRequest, rule_id: int) -> HttpResponse:
    _require_rules(request)
    try:
        services.rule_move(actor=request.user, rule_id=rule_id, up=request.POST.get("up") == "1")
    except NotFound as exc:
        raise Http404 from exc
    return redirect("sales:lead_rules")


urlpatterns = [
    path("leads/", lead_list, name="lead_list"),
    path("leads/new/", lead_create, name="lead_create"),
    path("leads/import/", lead_import, name="lead_import"),
    path("leads/export.<str:fmt>", lead_export, name="lead_export"),
    path("leads/trash/", lead_trash, name="lead_trash"),
    path("leads/<int:lead_id>/", lead_detail, name="lead_detail"),
    path("leads/<int:lead_id>/edit/", lead_edit, name="lead_edit"),
    path("leads/<int:lead_id>/status/", lead_status, name="lead_status"),
    path("leads/<int:lead_id>/delete/", lead_delete, name="lead_delete"),
    path("leads/<int:lead_id>/restore/", lead_restore, name="lead_restore"),
    path("leads/<int:lead_id>/convert/", lead_convert, name="lead_convert"),
    path("settings/lead-assignment-rules/", rule_list, name="lead_rules"),
    path("settings/lead-assignment-rules/new/", rule_form, name="lead_rule_create"),
    path("settings/lead-assignment-rules/<int:rule_id>/", rule_form, name="lead_rule_edit"),
    path("settings/lead-assignment-rules/<int:rule_id>/move/", rule_move, name="lead_rule_move"),
]
