"""Pages: opportunities (deals) — list, board per pipeline, 360 page, form, moves — and the
settings pages of pipelines, stages and loss reasons."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from farley.contacts import selectors as contact_selectors
from farley.contacts.models import Account
from farley.core import customfields, panels, permissions, sensitive
from farley.core import selectors as core_selectors
from farley.core.errors import Conflict, Forbidden, NotFound, ServiceError, ValidationFailed
from farley.sales.models import (
    ContactRole,
    Opportunity,
    Pipeline,
    Product,
    ProductUnit,
    Stage,
    StageKind,
    TaxRate,
)
from farley.sales.selectors import opportunities as selectors
from farley.sales.services import opportunities as services
from farley.web.formdata import custom_values, rows, simple

ENTITY = "opportunity"


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _messages_of(exc: ServiceError) -> list[str]:
    found = [m for messages_ in exc.fields.values() for m in messages_]
    return found or [exc.message]


# --- list ------------------------------------------------------------------------------------

SORTABLE = {
    "name": "name",
    "amount": "amount",
    "probability": "probability",
    "close_date": "close_date",
    "last_activity": "last_activity",
}


def _filter_context(request: HttpRequest) -> dict[str, Any]:
    return {
        "params": request.GET,
        "owners": core_selectors.user_choices(),
        "teams": core_selectors.team_choices(),
        "pipelines": selectors.pipelines(),
        "statuses": selectors.STATUSES,
    }


@login_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "view", ENTITY)
    params = {k: v for k, v in request.GET.items() if k != "cols"}
    # The page ignores filters it cannot read (the API refuses them); the totals cover every
    # deal that matches, not only this page.
    queryset, _fields, _descending = selectors.filtered_list(request.user, params)
    totals = selectors.totals(queryset)
    page = selectors.list_page(request.user, params)
    selectors.mark_stale(page.items)
    context = {
        "nav": "deals",
        "page": page,
        "items": page.items,
        "totals": totals,
        "sort": request.GET.get("sort", "close_date"),
        "sortable": SORTABLE,
        "filter_count": sum(1 for k, v in params.items() if v and k not in ("sort", "cursor")),
        **_filter_context(request),
    }
    return render(request, "sales/opportunities/list.html", context)


@login_required
def opportunity_trash(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "view", ENTITY)
    context = {"nav": "deals", "records": selectors.trash(request.user)}
    return render(request, "sales/opportunities/trash.html", context)


# --- board -----------------------------------------------------------------------------------


def _pipeline_or_404(pipeline_id: int | None):
    if pipeline_id is None:
        pipeline = selectors.default_pipeline()
        if pipeline is None:
            raise Http404
        return selectors.pipeline_detail(pipeline.pk)
    try:
        return selectors.pipeline_detail(pipeline_id)
    except NotFound as exc:
        raise Http404 from exc


@login_required
def board(request: HttpRequest, pipeline_id: int | None = None) -> HttpResponse:
    """The kanban board of a pipeline: a column per stage with count and sums, cards paged
    per column, filters in the URL, drag and drop (board.js) posting the move."""
    permissions.require(request.user, "view", ENTITY)
    pipeline = _pipeline_or_404(pipeline_id)
    data = selectors.board(request.user, pipeline, request.GET)
    _with_urls(data.columns)
    context = {
        "nav": "deals",
        "board": data,
        "pipeline": pipeline,
        "query": _board_query(data.params),
        "may_edit": permissions.can(request.user, "edit", ENTITY),
        "loss_reasons": selectors.loss_reasons(active_only=True),
        "owners": core_selectors.user_choices(),
        "teams": core_selectors.team_choices(),
        "pipelines": Pipeline.objects.filter(active=True).order_by("order", "name"),
    }
    return render(request, "sales/opportunities/board.html", context)


def _with_urls(columns: list[selectors.Column]) -> None:
    """Each card's links, by formatting (reversing two URLs per card would cost a board of
    300 cards more time than its queries)."""
    detail = reverse("sales:opportunity_detail", args=[0]).replace("/0/", "/{}/")
    move = reverse("sales:opportunity_move", args=[0]).replace("/0/", "/{}/")
    for column in columns:
        for card in column.cards:
            card.detail_url = detail.format(card.pk)
            card.move_url = move.format(card.pk)


def _board_query(params: dict[str, str]) -> str:
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    query.update(params)
    return query.urlencode()


@login_required
def board_column(request: HttpRequest, pipeline_id: int, stage_id: int) -> HttpResponse:
    """One column again (after a move) or, with ``cursor``, its next cards ("show more")."""
    permissions.require(request.user, "view", ENTITY)
    pipeline = _pipeline_or_404(pipeline_id)
    stage = next((s for s in pipeline.stages.all() if s.pk == stage_id), None)
    if stage is None:
        raise Http404
    cursor = request.GET.get("cursor") or None
    column = selectors.board_column(request.user, pipeline, stage, request.GET, cursor)
    _with_urls([column])
    chosen, _q = selectors.board_params(request.GET)
    context = {
        "column": column,
        "pipeline": pipeline,
        "query": _board_query(chosen),
        "may_edit": permissions.can(request.user, "edit", ENTITY),
    }
    template = (
        "sales/opportunities/_more_cards.html" if cursor else "sales/opportunities/_column.html"
    )
    return render(request, template, context)


# --- moving ----------------------------------------------------------------------------------


@login_required
@require_POST
def opportunity_move(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    """Move a deal to another stage: from the board (fetch, answers JSON) or from the stage
    bar of its page (a form, answers with a redirect)."""
    data = simple(request.POST, services.MOVE_FIELDS)
    version = request.POST.get("version")
    try:
        deal = services.opportunity_move(
            actor=request.user, opportunity_id=opportunity_id, data=data, version=version
        )
    except NotFound as exc:
        if _wants_json(request):
            return JsonResponse({"error": {"code": exc.code, "message": exc.message, "fields": {}}},
                                status=404)  # fmt: skip
        raise Http404 from exc
    except (Conflict, ValidationFailed, Forbidden) as exc:
        message = exc.message
        if isinstance(exc, Conflict):
            message = _(
                "Someone else changed this deal in the meantime; nothing was saved. The board "
                "shows its current stage now."
            )
        elif isinstance(exc, ValidationFailed):
            message = " ".join(_messages_of(exc))
        if _wants_json(request):
            body = {"error": {"code": exc.code, "message": message, "fields": exc.fields}}
            return JsonResponse(body, status=exc.status)
        messages.error(request, message)
        return redirect("sales:opportunity_detail", opportunity_id)
    if _wants_json(request):
        return JsonResponse({"id": deal.pk, "version": deal.version, "stage_id": deal.stage_id})
    messages.success(request, _("Moved to “%(stage)s”.") % {"stage": deal.stage.display_name()})
    return redirect("sales:opportunity_detail", deal.pk)


# --- the deal's page -------------------------------------------------------------------------

HISTORY_PAGE = 50


def _detail_or_404(request: HttpRequest, opportunity_id: int, **kwargs: Any) -> Opportunity:
    try:
        return selectors.opportunity_detail(request.user, opportunity_id, **kwargs)
    except NotFound as exc:
        raise Http404 from exc


@login_required
def opportunity_detail(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    deal = _detail_or_404(request, opportunity_id, include_deleted=True)
    raw = request.GET.get("history", "")
    shown = max(HISTORY_PAGE, min(int(raw) if raw.isdigit() else HISTORY_PAGE, 5000))
    editable = selectors.opportunities_visible_to(request.user, for_edit=True).filter(pk=deal.pk)
    may_edit = permissions.can(request.user, "edit", ENTITY) and editable.exists()
    lines = list(deal.lines.all())
    context = {
        "nav": "deals",
        "record": deal,
        "stages": list(deal.pipeline.stages.all()),
        "stage_changes": selectors.stage_changes(deal),
        "history": selectors.record_history(deal, request.user, limit=shown + 1),
        "history_shown": shown,
        "lines": lines,
        "lines_total": sum((line.net_amount for line in lines), start=0),
        "definitions": sensitive.visible_definitions(
            request.user, ENTITY, customfields.definitions_for(ENTITY)
        ),
        "may_edit": may_edit and deal.deleted_at is None,
        "may_delete": permissions.can(request.user, "delete", ENTITY) and may_edit,
        "loss_reasons": selectors.loss_reasons(active_only=True),
        "panels_main": panels.panels_for(ENTITY, request.user, deal, "main"),
    }
    return render(request, "sales/opportunities/detail.html", context)


@login_required
@require_POST
def opportunity_delete(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    try:
        services.opportunity_delete(actor=request.user, opportunity_id=opportunity_id)
    except NotFound as exc:
        raise Http404 from exc
    except Forbidden as exc:
        messages.error(request, exc.message)
        return redirect("sales:opportunity_detail", opportunity_id)
    messages.success(request, _("Moved to the trash. You can restore it from there."))
    return redirect("sales:opportunity_list")


@login_required
@require_POST
def opportunity_restore(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    try:
        services.opportunity_restore(actor=request.user, opportunity_id=opportunity_id)
    except NotFound as exc:
        raise Http404 from exc
    except Forbidden as exc:
        messages.error(request, exc.message)
        return redirect("sales:opportunity_trash")
    messages.success(request, _("Restored."))
    return redirect("sales:opportunity_detail", opportunity_id)


# --- the form --------------------------------------------------------------------------------

SIMPLE_FIELDS = [
    "name",
    "stage_id",
    "amount",
    "currency",
    "expected_close_date",
    "probability",
    "next_step",
    "competitor",
    "loss_reason_id",
    "loss_note",
    "description",
    "owner_id",
    "team_id",
]
NUMBER = re.compile(r"\[#?(K?\d+)\]\s*$")


def account_label(account: Account) -> str:
    return f"{account.name} [{account.customer_number}]"


def _account_from_text(request: HttpRequest, text: str) -> Account | None:
    """The account a picker names: "Name [K000123]", else the one account whose name is the
    text or, failing that, contains it."""
    visible = contact_selectors.accounts_visible_to(request.user)
    match = NUMBER.search(text)
    account = visible.filter(customer_number=match.group(1)).first() if match else None
    if account is None and text:
        for lookup in ("name__iexact", "name__icontains"):
            candidates = list(visible.filter(**{lookup: text.strip()})[:2])
            if candidates:
                return candidates[0] if len(candidates) == 1 else None
    return account


def contact_label(contact: Any) -> str:
    return f"{contact.full_name} [#{contact.pk}]"


def _contact_id_from_text(request: HttpRequest, text: str) -> int:
    match = re.search(r"\[#(\d+)\]\s*$", text)
    visible = contact_selectors.contacts_visible_to(request.user)
    if match and len(match.group(1)) < 19:
        return int(match.group(1))
    words = text.split()
    if not words:
        return 0
    candidates = visible
    for word in words[:5]:
        candidates = candidates.filter(first_name__icontains=word) | candidates.filter(
            last_name__icontains=word
        )
    found = list(candidates.distinct()[:2])
    return found[0].pk if len(found) == 1 else 0


def _form_data(request: HttpRequest) -> tuple[dict[str, Any], dict[str, Any]]:
    """The services' dict from the form, and what to show again in it."""
    post = request.POST
    data = simple(post, SIMPLE_FIELDS)
    for key in ("owner_id", "team_id", "loss_reason_id"):
        if data.get(key) == "":
            data[key] = None
    shown: dict[str, Any] = {**data}
    stage_id = data.get("stage_id") or ""
    stage = Stage.objects.filter(pk=int(stage_id)).first() if str(stage_id).isdigit() else None
    if stage is not None:
        data["pipeline_id"] = stage.pipeline_id
    account_text = post.get("account", "").strip()
    account = _account_from_text(request, account_text) if account_text else None
    data["account_id"] = account.pk if account else None
    shown["account"] = account_text
    contacts, shown_contacts = [], []
    for row in rows(post, "contacts", "contact"):
        text = row.get("contact", "").strip()
        contacts.append(
            {"contact_id": _contact_id_from_text(request, text), "role": row.get("role", "")}
        )
        shown_contacts.append({"contact": text, "role": row.get("role", "")})
    data["contacts"], shown["contacts"] = contacts, shown_contacts
    line_fields = "description,product_id,quantity,unit_price"
    lines = []
    for row in rows(post, "lines", line_fields):
        line = {k: v for k, v in row.items() if k in services.LINE_FIELDS and v.strip()}
        lines.append(line)
    data["lines"], shown["lines"] = lines, rows(post, "lines", line_fields)
    if lines:
        data.pop("amount", None)  # the lines make the amount
    definitions = sensitive.visible_definitions(
        request.user, ENTITY, customfields.definitions_for(ENTITY)
    )
    data["custom"] = shown["custom"] = custom_values(post, definitions)
    return data, shown


def _initial(deal: Opportunity | None, request: HttpRequest) -> dict[str, Any]:
    if deal is None:
        values: dict[str, Any] = {"currency": "EUR", "contacts": [], "lines": [], "custom": {}}
        account_id = request.GET.get("account", "")
        if account_id.isdigit():
            account = (
                contact_selectors.accounts_visible_to(request.user).filter(pk=account_id).first()
            )
            if account is not None:
                values["account"] = account_label(account)
        contact_id = request.GET.get("contact", "")
        if contact_id.isdigit():
            contact = (
                contact_selectors.contacts_visible_to(request.user)
                .select_related("primary_account")
                .filter(pk=contact_id)
                .first()
            )
            if contact is not None:
                values["contacts"] = [{"contact": contact_label(contact), "role": "decision_maker"}]
                if contact.primary_account and "account" not in values:
                    values["account"] = account_label(contact.primary_account)
        default = selectors.default_pipeline()
        first = (
            default.stages.filter(kind=StageKind.OPEN).order_by("order").first()
            if default
            else None
        )
        values["stage_id"] = first.pk if first else ""
        return values
    values = {f: getattr(deal, f) for f in SIMPLE_FIELDS if f != "probability"}
    values["probability"] = deal.probability_override
    values["account"] = account_label(deal.account)
    values["expected_close_date"] = (
        deal.expected_close_date.isoformat() if deal.expected_close_date else ""
    )
    values["contacts"] = [
        {"contact": contact_label(r.contact), "role": r.role} for r in deal.contact_roles.all()
    ]
    values["lines"] = [
        {
            "product_id": line.product_id or "",
            "description": line.description,
            "quantity": line.quantity.normalize(),
            "unit_price": line.unit_price,
            "discount_percent": line.discount_percent.normalize(),
            "tax_rate": line.tax_rate,
        }
        for line in deal.lines.all()
    ]
    values["custom"] = dict(deal.custom)
    return values


FIELD_ALIASES = {"account_id": "account", "pipeline_id": "stage_id"}


def _form_errors(fields: dict[str, list[str]]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for key, messages_ in fields.items():
        key = FIELD_ALIASES.get(key, key)
        key = re.sub(r"^contacts\.(\d+)\.contact_id$", r"contacts.\1.contact", key)
        result.setdefault(key, []).extend(messages_)
    return result


def _opportunity_form(request: HttpRequest, opportunity_id: int | None = None) -> HttpResponse:
    deal = None
    if opportunity_id is not None:
        deal = _detail_or_404(request, opportunity_id)
        if not permissions.can(request.user, "edit", ENTITY):
            raise Forbidden()
    else:
        permissions.require(request.user, "create", ENTITY)
    values, errors, status = _initial(deal, request), {}, 200
    if request.method == "POST":
        data, shown = _form_data(request)
        try:
            if deal is None:
                saved = services.opportunity_create(actor=request.user, data=data)
            else:
                saved = services.opportunity_update(
                    actor=request.user, opportunity_id=deal.pk, data=data,
                    version=request.POST.get("version"),
                )  # fmt: skip
        except ValidationFailed as exc:
            errors, status = _form_errors(exc.fields), 422
        except Forbidden as exc:
            errors, status = {"": [exc.message]}, 403
        except Conflict:
            errors, status = (
                {"": [_("Someone else saved this deal while you were editing it. Your input is "
                        "still here; saving again replaces their changes.")]},
                409,
            )  # fmt: skip
            deal.refresh_from_db()
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:opportunity_detail", saved.pk)
        values = shown
    definitions = sensitive.visible_definitions(
        request.user, ENTITY, customfields.definitions_for(ENTITY)
    )
    context = {
        "nav": "deals",
        "record": deal,
        "values": values,
        "errors": errors,
        "definitions": definitions,
        "pipelines": [
            p for p in selectors.pipelines() if p.active or (deal and p.pk == deal.pipeline_id)
        ],
        "loss_reasons": selectors.loss_reasons(active_only=True),
        "owners": core_selectors.user_choices(),
        "teams": core_selectors.team_choices(),
        "roles": ContactRole.choices,
        "tax_rates": TaxRate.choices,
        "units": ProductUnit.choices,
        "products": Product.objects.filter(active=True).order_by("name"),
    }
    return render(request, "sales/opportunities/form.html", context, status=status)


@login_required
def opportunity_create(request: HttpRequest) -> HttpResponse:
    return _opportunity_form(request)


@login_required
def opportunity_edit(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    return _opportunity_form(request, opportunity_id)


@login_required
def account_lookup(request: HttpRequest) -> HttpResponse:
    """Options for the account picker (the typed name → matching accounts)."""
    query = re.sub(r"\s*\[K\d+\]$", "", (request.GET.get("account") or "").strip()[:100])
    accounts = (
        contact_selectors.accounts_visible_to(request.user)
        .filter(name__icontains=query)
        .order_by("name")[:15]
        if query
        else []
    )
    return render(request, "contacts/_account_options.html", {"accounts": accounts})


@login_required
def contact_lookup(request: HttpRequest) -> HttpResponse:
    """Options for a contact-role row (typed name → matching contacts)."""
    text = next((v for k, v in request.GET.items() if k.endswith("-contact")), "")
    words = re.sub(r"\s*\[#\d+\]$", "", text.strip()[:100]).split()
    contacts = contact_selectors.contacts_visible_to(request.user)
    for word in words[:5]:
        contacts = contacts.filter(first_name__icontains=word) | contacts.filter(
            last_name__icontains=word
        )
    found = list(contacts.distinct().order_by("last_name", "first_name")[:15]) if words else []
    prefetch_related_objects(found, "primary_account")
    return render(
        request, "sales/opportunities/_contact_options.html",
        {"contacts": [(contact_label(c), c.primary_account) for c in found]},
    )  # fmt: skip


# --- settings: pipelines, stages, loss reasons -----------------------------------------------


def _require_configure(request: HttpRequest) -> None:
    if not services.may_configure(request.user):
        raise Forbidden()


@login_required
def pipeline_settings(request: HttpRequest) -> HttpResponse:
    _require_configure(request)
    counts = selectors.pipeline_deal_counts()
    pipelines = selectors.pipelines()
    for pipeline in pipelines:
        pipeline.deal_count = counts.get(pipeline.pk, 0)
    context = {
        "nav": "settings",
        "pipelines": pipelines,
        "loss_reasons": selectors.loss_reasons(),
        "reason_errors": {},
    }
    return render(request, "sales/opportunities/settings.html", context)


def _stage_rows(post: Any) -> list[dict[str, Any]]:
    result = []
    for row in rows(post, "stages", "name,id"):
        item = {k: row.get(k, "") for k in ("name", "name_de", "probability", "kind")}
        item["id"] = int(row["id"]) if row.get("id", "").isdigit() and len(row["id"]) < 19 else ""
        result.append(item)
    return result


def _pipeline_form(request: HttpRequest, pipeline_id: int | None = None) -> HttpResponse:
    _require_configure(request)
    pipeline = _pipeline_or_404(pipeline_id) if pipeline_id is not None else None
    errors: dict[str, list[str]] = {}
    status = 200
    if pipeline is None:
        values: dict[str, Any] = {
            "order": 100, "active": True, "stale_after_days": 30,
            "stages": [
                {"id": "", "name": _("Qualification"), "probability": 10, "kind": "open"},
                {"id": "", "name": _("Proposal"), "probability": 50, "kind": "open"},
                {"id": "", "name": _("Won"), "probability": 100, "kind": "won"},
                {"id": "", "name": _("Lost"), "probability": 0, "kind": "lost"},
            ],
        }  # fmt: skip
    else:
        values = {
            "name": pipeline.name,
            "order": pipeline.order,
            "is_default": pipeline.is_default,
            "active": pipeline.active,
            "stale_after_days": pipeline.stale_after_days,
            "stages": [
                {"id": s.pk, "name": s.name, "name_de": s.name_de, "probability": s.probability,
                 "kind": s.kind}
                for s in pipeline.stages.all()
            ],
        }  # fmt: skip
    if request.method == "POST":
        post = request.POST
        data = {
            "name": post.get("name", ""),
            "order": post.get("order", ""),
            "stale_after_days": post.get("stale_after_days", ""),
            "is_default": "is_default" in post,
            "active": "active" in post,
            "stages": _stage_rows(post),
        }
        try:
            if pipeline is None:
                saved = services.pipeline_create(actor=request.user, data=data)
            else:
                saved = services.pipeline_update(
                    actor=request.user, pipeline_id=pipeline.pk, data=data
                )
        except ValidationFailed as exc:
            errors, status = exc.fields, 422
            values = data
        else:
            messages.success(request, _("The pipeline %(name)s was saved.") % {"name": saved.name})
            return redirect("sales:pipeline_settings")
    in_use = selectors.stage_deal_counts(pipeline) if pipeline else {}
    for row in values["stages"]:
        row["deals"] = in_use.get(row.get("id"), 0)
    context = {
        "nav": "settings",
        "pipeline": pipeline,
        "values": values,
        "errors": errors,
        "kinds": StageKind.choices,
    }
    return render(request, "sales/opportunities/pipeline_form.html", context, status=status)


@login_required
def pipeline_create(request: HttpRequest) -> HttpResponse:
    return _pipeline_form(request)


@login_required
def pipeline_edit(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    return _pipeline_form(request, pipeline_id)


@login_required
@require_POST
def pipeline_delete(request: HttpRequest, pipeline_id: int) -> HttpResponse:
    _require_configure(request)
    try:
        services.pipeline_delete(actor=request.user, pipeline_id=pipeline_id)
    except NotFound as exc:
        raise Http404 from exc
    except ValidationFailed as exc:
        for message in _messages_of(exc):
            messages.error(request, message)
        return redirect("sales:pipeline_edit", pipeline_id)
    messages.success(request, _("The pipeline was deleted."))
    return redirect("sales:pipeline_settings")


@login_required
@require_POST
def loss_reason_save(request: HttpRequest, reason_id: int | None = None) -> HttpResponse:
    """Add a loss reason, or rename, reorder, deactivate or reactivate one."""
    _require_configure(request)
    post = request.POST
    data = {
        "name": post.get("name", ""),
        "name_de": post.get("name_de", ""),
        "order": post.get("order", ""),
        "active": "active" in post if reason_id is not None else True,
    }
    try:
        if reason_id is None:
            services.loss_reason_create(actor=request.user, data=data)
        else:
            services.loss_reason_update(actor=request.user, reason_id=reason_id, data=data)
    except NotFound as exc:
        raise Http404 from exc
    except ValidationFailed as exc:
        pipelines = selectors.pipelines()
        counts = selectors.pipeline_deal_counts()
        for pipeline in pipelines:
            pipeline.deal_count = counts.get(pipeline.pk, 0)
        context = {
            "nav": "settings",
            "pipelines": pipelines,
            "loss_reasons": selectors.loss_reasons(),
            "reason_errors": exc.fields,
            "reason_values": data,
            "reason_id": reason_id,
        }
        return render(request, "sales/opportunities/settings.html", context, status=422)
    messages.success(request, _("The loss reason was saved."))
    return redirect(reverse("sales:pipeline_settings") + "#loss-reasons")


urlpatterns = [
    path("opportunities/", opportunity_list, name="opportunity_list"),
    path("opportunities/new/", opportunity_create, name="opportunity_create"),
    path("opportunities/trash/", opportunity_trash, name="opportunity_trash"),
    path("opportunities/board/", board, name="opportunity_board"),
    path("opportunities/board/<int:pipeline_id>/", board, name="opportunity_board_pipeline"),
    path(
        "opportunities/board/<int:pipeline_id>/stages/<int:stage_id>/",
        board_column,
        name="opportunity_board_column",
    ),
    path("opportunities/accounts/", account_lookup, name="opportunity_account_lookup"),
    path("opportunities/contacts/", contact_lookup, name="opportunity_contact_lookup"),
    path("opportunities/<int:opportunity_id>/", opportunity_detail, name="opportunity_detail"),
    path("opportunities/<int:opportunity_id>/edit/", opportunity_edit, name="opportunity_edit"),
    path("opportunities/<int:opportunity_id>/move/", opportunity_move, name="opportunity_move"),
    path(
        "opportunities/<int:opportunity_id>/delete/", opportunity_delete, name="opportunity_delete"
    ),
    path(
        "opportunities/<int:opportunity_id>/restore/",
        opportunity_restore,
        name="opportunity_restore",
    ),
    path("settings/pipelines/", pipeline_settings, name="pipeline_settings"),
    path("settings/pipelines/new/", pipeline_create, name="pipeline_create"),
    path("settings/pipelines/<int:pipeline_id>/", pipeline_edit, name="pipeline_edit"),
    path("settings/pipelines/<int:pipeline_id>/delete/", pipeline_delete, name="pipeline_delete"),
    path("settings/loss-reasons/", loss_reason_save, name="loss_reason_create"),
    path("settings/loss-reasons/<int:reason_id>/", loss_reason_save, name="loss_reason_edit"),
]
