"""Layout-level pages: home, global search, profile, settings (teams, users, custom fields)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings as django_settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from farley.activities import ical
from farley.contacts import selectors as contact_selectors
from farley.contacts.models import AccountStatus, RelationshipType
from farley.core import (
    entities,
    permissions,
    selectors,
    services,
    sharing,
    signin,
    timezones,
    twofactor,
)
from farley.core import search as search_index
from farley.core.api import hit_url
from farley.core.errors import Conflict, NotFound, ValidationFailed
from farley.core.models import (
    ApiToken,
    ApiTokenUse,
    CustomFieldDefinition,
    FieldType,
    RecordShare,
    Role,
    SharingRule,
    User,
    Visibility,
)
from farley.core.visibility import is_administrator


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        "account_count": contact_selectors.accounts_visible_to(user).count(),
        "contact_count": contact_selectors.contacts_visible_to(user).count(),
        "recent_contacts": contact_selectors.contacts_visible_to(user)
        .select_related("primary_account")
        .order_by("-updated_at", "-id")[:8],
        "recent_accounts": contact_selectors.accounts_visible_to(user).order_by(
            "-updated_at", "-id"
        )[:8],
        "recent_entries": contact_selectors.timeline_entries_visible_to(user)
        .filter(occurred_at__lte=timezone.now())  # planned entries are no interaction yet
        .order_by("-occurred_at", "-id")[:10],
    }
    return render(request, "web/home.html", context)


@login_required
def search(request: HttpRequest) -> HttpResponse:
    query = (request.GET.get("q") or "").strip()[:200]
    hits = (
        search_index.search(request.user, query, limit=8 if request.GET.get("partial") else 50)
        if query
        else []
    )
    results = [{"hit": h, "url": hit_url(h.entity, h.object_id)} for h in hits]
    template = (
        "web/search_results.html"
        if request.GET.get("partial") and is_htmx(request)
        else "web/search.html"
    )
    return render(request, template, {"query": query, "search_query": query, "results": results})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    new_token = None
    recovery_codes: list[str] = []
    two_factor_error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "language":
            try:
                services.user_set_language(
                    actor=request.user, language=request.POST.get("language", "")
                )
            except ValidationFailed:
                messages.error(request, _("Select a valid language."))
            else:
                from django.utils import translation

                translation.activate(request.user.language or translation.get_language())
                messages.success(request, _("Your language was saved."))
                if "time_zone" in request.POST:
                    try:
                        services.user_set_time_zone(
                            actor=request.user, time_zone=request.POST.get("time_zone", "")
                        )
                    except ValidationFailed:
                        messages.error(request, _("Select a valid time zone."))
                return redirect("web:profile")
        elif action == "time_zone":
            try:
                services.user_set_time_zone(
                    actor=request.user, time_zone=request.POST.get("time_zone", "")
                )
            except ValidationFailed:
                messages.error(request, _("Select a valid time zone."))
            else:
                messages.success(request, _("Your time zone was saved."))
                return redirect("web:profile")
        elif action == "create_token":
            post = request.POST
            access = {e: post.get(f"scope-{e}", "all") for e in entities.registered_keys()}
            scopes = None
            if any(v != "all" for v in access.values()):
                scopes = {e: "write" if v == "all" else v for e, v in access.items() if v != "none"}
            days = post.get("expires", "")
            expires = timezone.now() + dt.timedelta(days=int(days)) if days.isdigit() else None
            try:
                _token, new_token = services.token_create(
                    user=request.user,
                    name=post.get("name", "")[:100],
                    expires_at=expires,
                    scopes=scopes or {},
                )
            except ValidationFailed as exc:
                for message_list in exc.fields.values():
                    for message in message_list:
                        messages.error(request, message)
        elif action == "start_2fa":
            request.session["farley_2fa_secret"] = twofactor.new_secret()
            return redirect(reverse("web:profile") + "#two-factor")
        elif action == "enable_2fa":
            try:
                recovery_codes = twofactor.enable(
                    user=request.user,
                    secret=request.session.get("farley_2fa_secret", ""),
                    code=request.POST.get("code", ""),
                )
            except ValidationFailed as exc:
                two_factor_error = exc.fields["code"][0]
            else:
                request.session.pop("farley_2fa_secret", None)
                messages.success(request, _("Two-factor authentication is on."))
        elif action == "disable_2fa":
            try:
                twofactor.disable(user=request.user, code=request.POST.get("code", ""))
            except ValidationFailed as exc:
                two_factor_error = exc.fields["code"][0]
            else:
                messages.success(request, _("Two-factor authentication is off."))
                return redirect(reverse("web:profile") + "#two-factor")
        elif action == "end_session":
            try:
                signin.end_session(
                    actor=request.user, session_id=int(request.POST.get("session_id", "0"))
                )
                messages.success(request, _("That session was signed out."))
            except (NotFound, ValueError):
                messages.error(request, _("This session does not exist any more."))
            return redirect(reverse("web:profile") + "#sessions")
        elif action == "end_other_sessions":
            count = signin.end_other_sessions(actor=request.user, keep=request.session.session_key)
            messages.success(
                request,
                ngettext(
                    "%(count)d other session was signed out.",
                    "%(count)d other sessions were signed out.",
                    count,
                )
                % {"count": count},
            )
            return redirect(reverse("web:profile") + "#sessions")
        elif action == "revoke_token":
            try:
                services.token_revoke(
                    actor=request.user, token_id=int(request.POST.get("token_id", "0"))
                )
                messages.success(request, _("The token was revoked."))
            except (NotFound, ValueError):
                messages.error(request, _("This token does not exist."))
            return redirect("web:profile")
    tokens = list(ApiToken.objects.filter(user=request.user).order_by("-created_at"))
    for token in tokens:  # a user has a handful of tokens: one small query each
        token.recent_uses = list(ApiTokenUse.objects.filter(token=token).order_by("-at")[:10])
    pending_secret = (
        "" if twofactor.is_enabled(request.user) else request.session.get("farley_2fa_secret", "")
    )
    context = {
        "tokens": tokens,
        "new_token": new_token,
        "sessions": signin.sessions_of(request.user),
        "token_entities": entities.all_entities(),
        "two_factor": {
            "enabled": twofactor.is_enabled(request.user),
            "required": request.user.role.requires_2fa,
            "pending": pending_secret,
            "qr": twofactor.qr_svg(twofactor.provisioning_uri(request.user, pending_secret))
            if pending_secret
            else "",
            "recovery_codes": recovery_codes,
            "error": two_factor_error,
        },
        "current_session": request.session.session_key,
        "time_zones": timezones.zone_names(),
        "calendar_feed_url": ical.feed_url(request.user),
        "default_time_zone": django_settings.TIME_ZONE,
    }
    status = 422 if two_factor_error else 200
    return render(request, "web/profile.html", context, status=status)


def _require_admin(request: HttpRequest) -> None:
    if not is_administrator(request.user):
        raise PermissionDenied


@login_required
def settings_home(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    context = {
        "nav": "settings",
        "teams": selectors.teams_all().prefetch_related("members"),
        "users": selectors.users_all().prefetch_related("teams"),
        "fields": selectors.custom_fields(include_inactive=True),
        "roles": Role.objects.select_related("reports_to").annotate(user_count=Count("user")),
        "rules": SharingRule.objects.select_related("team").annotate(records=Count("recordshare")),
        "relationship_types": RelationshipType.objects.annotate(uses=Count("relationship")),
    }
    return render(request, "web/settings.html", context)


@login_required
@require_POST
def team_create(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    try:
        services.team_create(actor=request.user, data={"name": request.POST.get("name", "")})
        messages.success(request, _("The team was created."))
    except ValidationFailed as exc:
        for message_list in exc.fields.values():
            for message in message_list:
                messages.error(request, message)
    return redirect(reverse("web:settings") + "#teams")


@login_required
def user_create(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    errors, values = {}, {}
    if request.method == "POST":
        values = request.POST
        try:
            services.user_create(
                actor=request.user,
                email=values.get("email", ""),
                password=values.get("password", ""),
                role=values.get("role", ""),
                full_name=values.get("full_name", ""),
                team_names=[t for t in values.getlist("teams") if t],
            )
            messages.success(request, _("The user was created."))
            return redirect(reverse("web:settings") + "#users")
        except ValidationFailed as exc:
            errors = exc.fields
    context = {
        "nav": "settings",
        "errors": errors,
        "values": values,
        "roles": Role.objects.all(),
        "teams": selectors.teams_all(),
        "chosen_teams": request.POST.getlist("teams") if request.method == "POST" else [],
    }
    return render(request, "web/user_form.html", context, status=422 if errors else 200)


@login_required
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    _require_admin(request)
    user = get_object_or_404(
        User.objects.select_related("role").prefetch_related("teams"), pk=user_id
    )
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        post = request.POST
        data = {
            "email": post.get("email", ""),
            "full_name": post.get("full_name", ""),
            "role": post.get("role", ""),
            "teams": [t for t in post.getlist("teams") if t],
            "is_active": "is_active" in post,
            "language": post.get("language", ""),
        }
        if post.get("password"):
            data["password"] = post["password"]
        try:
            services.user_update(actor=request.user, user_id=user.pk, data=data)
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            messages.success(request, _("The user was saved."))
            return redirect(reverse("web:settings") + "#users")
        values: Any = post
        chosen = post.getlist("teams")
    else:
        values = {
            "email": user.email,
            "full_name": user.full_name,
            "role": user.role.key,
            "is_active": user.is_active,
            "language": user.language,
        }
        chosen = [t.name for t in user.teams.all()]
    context = {
        "nav": "settings",
        "edited": user,
        "errors": errors,
        "values": values,
        "roles": Role.objects.all(),
        "teams": selectors.teams_all(),
        "chosen_teams": chosen,
    }
    return render(request, "web/user_form.html", context, status=422 if errors else 200)


@login_required
@require_POST
def share_add(request: HttpRequest, entity: str, record_id: int) -> HttpResponse:
    """Share one record with a user or a team (from its 360 page)."""
    kind, _sep, pk = request.POST.get("with", "").partition(":")
    data = {"can_edit": "can_edit" in request.POST}
    if kind in ("user", "team"):
        data[f"{kind}_id"] = pk
    try:
        sharing.share_create(actor=request.user, entity=entity, object_id=record_id, data=data)
        messages.success(request, _("The record is shared."))
    except ValidationFailed as exc:
        for message_list in exc.fields.values():
            for message in message_list:
                messages.error(request, message)
    return redirect(reverse(entities.get(entity).url_name, args=[record_id]) + "#sharing")


@login_required
@require_POST
def share_remove(request: HttpRequest, share_id: int) -> HttpResponse:
    share = get_object_or_404(RecordShare, pk=share_id)
    try:
        sharing.share_delete(actor=request.user, share_id=share.pk)
        messages.success(request, _("The record is no longer shared with them."))
    except ValidationFailed as exc:
        for message_list in exc.fields.values():
            for message in message_list:
                messages.error(request, message)
    return redirect(
        reverse(entities.get(share.entity).url_name, args=[share.object_id]) + "#sharing"
    )


@login_required
def rule_form(request: HttpRequest, rule_id: int | None = None) -> HttpResponse:
    """Create, change or delete a sharing rule (a territory shared with a team)."""
    _require_admin(request)
    rule = get_object_or_404(SharingRule, pk=rule_id) if rule_id is not None else None
    entity_key = (
        rule.entity
        if rule
        else request.POST.get("entity") or request.GET.get("entity") or "account"
    )
    if entity_key not in entities.registered_keys():
        entity_key = "account"
    entity = entities.get(entity_key)
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and rule is not None and request.POST.get("delete"):
        sharing.rule_delete(actor=request.user, rule_id=rule.pk)
        messages.success(request, _("The sharing rule was deleted."))
        return redirect(reverse("web:settings") + "#sharing-rules")
    if request.method == "POST":
        post = request.POST
        data: dict[str, Any] = {
            "name": post.get("name", ""),
            "team_id": post.get("team_id", ""),
            "can_edit": "can_edit" in post,
            "criteria": {
                name: post.get(f"criteria-{name}", "") for name, _l in entity.rule_filters
            },
        }
        try:
            if rule is None:
                sharing.rule_create(actor=request.user, data={**data, "entity": entity_key})
            else:
                sharing.rule_update(
                    actor=request.user, rule_id=rule.pk, data=data, version=post.get("version")
                )
        except ValidationFailed as exc:
            errors = exc.fields
        except Conflict as exc:
            errors = {"": [exc.message]}
        else:
            messages.success(request, _("The sharing rule was saved."))
            return redirect(reverse("web:settings") + "#sharing-rules")
    values = request.POST if request.method == "POST" else {}
    criteria = rule.criteria if rule else {}
    filters = [
        (
            name,
            label,
            values.get(f"criteria-{name}", criteria.get(name, ""))
            if values
            else criteria.get(name, ""),
        )
        for name, label in entity.rule_filters
    ]
    context = {
        "nav": "settings",
        "rule": rule,
        "entity": entity,
        "entity_choices": entities.all_entities(),
        "filters": filters,
        "teams": selectors.teams_all(),
        "values": values,
        "errors": errors,
    }
    return render(request, "web/rule_form.html", context, status=422 if errors else 200)


@login_required
def relationship_type_form(request: HttpRequest, type_id: int | None = None) -> HttpResponse:
    """Create, rename or delete a kind of relationship."""
    from farley.contacts import services as contact_services

    _require_admin(request)
    rel_type = get_object_or_404(RelationshipType, pk=type_id) if type_id is not None else None
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        post = request.POST
        try:
            if rel_type is not None and post.get("delete"):
                contact_services.relationship_type_delete(actor=request.user, type_id=rel_type.pk)
                messages.success(request, _("The relationship type was deleted."))
                return redirect(reverse("web:settings") + "#relationship-types")
            data = {
                k: post.get(k, "")
                for k in ("label", "label_de", "inverse_label", "inverse_label_de")
            }
            if rel_type is None:
                contact_services.relationship_type_create(
                    actor=request.user, data={**data, "key": post.get("key", "")}
                )
            else:
                contact_services.relationship_type_update(
                    actor=request.user, type_id=rel_type.pk, data=data
                )
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            messages.success(request, _("The relationship type was saved."))
            return redirect(reverse("web:settings") + "#relationship-types")
    values = request.POST if request.method == "POST" else {}
    if rel_type is not None and not values:
        values = {
            k: getattr(rel_type, k)
            for k in ("key", "label", "label_de", "inverse_label", "inverse_label_de")
        }
    context = {"nav": "settings", "rel_type": rel_type, "values": values, "errors": errors}
    return render(
        request, "web/relationship_type_form.html", context, status=422 if errors else 200
    )


@login_required
def processing_register(request: HttpRequest) -> HttpResponse:
    """The register of processing (GDPR Art. 30), one row per entity and custom field."""
    from farley.core import register
    from farley.core.models import LegalBasis

    _require_admin(request)
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        entries = {
            row.key: {
                name: request.POST.get(f"{row.key}-{name}", "")
                for name in ("purpose", "legal_basis", "retention")
            }
            for row in register.rows()
        }
        try:
            changed = register.save(actor=request.user, entries=entries)
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            messages.success(
                request,
                ngettext("%(count)d entry saved.", "%(count)d entries saved.", changed)
                % {"count": changed},
            )
            return redirect("web:processing_register")
    context = {
        "nav": "settings",
        "rows": register.rows(),
        "bases": LegalBasis.choices,
        "errors": errors,
        "values": request.POST if request.method == "POST" else None,
    }
    return render(request, "web/processing_register.html", context, status=422 if errors else 200)


@login_required
def retention_policies(request: HttpRequest, policy_id: int | None = None) -> HttpResponse:
    """Retention policies: the list, a form, and for one policy the preview of what it would
    affect now, with "run now"."""
    from farley.contacts import retention
    from farley.core.models import RetentionPolicy

    _require_admin(request)
    policy = get_object_or_404(RetentionPolicy, pk=policy_id) if policy_id else None
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and policy is not None and request.POST.get("delete"):
        retention.delete_policy(actor=request.user, policy=policy)
        messages.success(request, _("The retention policy was deleted."))
        return redirect("web:retention_policies")
    if request.method == "POST" and policy is not None and request.POST.get("run"):
        count = retention.run(actor=request.user, policy=policy)
        messages.success(
            request,
            ngettext(
                "The policy was applied to %(count)d contact.",
                "The policy was applied to %(count)d contacts.",
                count,
            )
            % {"count": count},
        )
        return redirect("web:retention_policy", policy.pk)
    if request.method == "POST":
        post = request.POST
        data = {
            "name": post.get("name", ""),
            "inactive_months": post.get("inactive_months", ""),
            "action": post.get("action", ""),
            "automatic": "automatic" in post,
            "criteria": {k: post.get(f"criteria-{k}", "") for k in retention.CRITERIA},
        }
        try:
            saved = retention.save_policy(actor=request.user, data=data, policy=policy)
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            messages.success(request, _("The retention policy was saved."))
            return redirect("web:retention_policy", saved.pk)
    affected_count, affected = retention.preview(policy) if policy else (0, [])
    if request.method == "POST":
        form = {**request.POST.dict(), "automatic": "automatic" in request.POST}
        criteria = {k: request.POST.get(f"criteria-{k}", "") for k in retention.CRITERIA}
    else:
        form = retention.snapshot(policy) if policy else {"inactive_months": 24, "action": "flag"}
        criteria = form.get("criteria", {})
    context = {
        "nav": "settings",
        "policy": policy,
        "policies": RetentionPolicy.objects.all(),
        "actions": RetentionPolicy.Action.choices,
        "affected_count": affected_count,
        "affected": affected,
        "flag_tag": retention.FLAG_TAG,
        "criteria_fields": [
            (key, label, criteria.get(key, ""), AccountStatus.choices if key == "status" else None)
            for key, label in retention.CRITERIA.items()
        ],
        "errors": errors,
        "form": form,
    }
    return render(request, "web/retention.html", context, status=422 if errors else 200)


@login_required
def logs(request: HttpRequest) -> HttpResponse:
    """The access log (who saw or exported whose data) and the audit log (administrative
    changes, privacy exports and erasures), for administrators and the data-protection officer."""
    from farley.core import audit

    if not audit.may_read_logs(request.user):
        raise PermissionDenied
    object_id = request.GET.get("contact", "")
    user_id = request.GET.get("user", "")
    context = {
        "nav": "settings",
        "accesses": audit.access_log(
            request.user,
            object_id=int(object_id) if object_id.isdigit() else None,
            user_id=int(user_id) if user_id.isdigit() else None,
        )[:300],
        "changes": audit.audit_log(request.user, kind=request.GET.get("kind", ""))[:300],
        "kinds": audit.ADMIN_KINDS.items(),
        "users": selectors.users_all(),
        "values": request.GET,
    }
    return render(request, "web/logs.html", context)


@login_required
def role_form(request: HttpRequest, role_id: int | None = None) -> HttpResponse:
    """Create or change a role: visibility, hierarchy and the permission matrix."""
    _require_admin(request)
    role = get_object_or_404(Role, pk=role_id) if role_id is not None else None
    errors: dict[str, list[str]] = {}
    if request.method == "POST" and request.POST.get("delete") and role is not None:
        try:
            services.role_delete(actor=request.user, role_id=role.pk)
        except ValidationFailed as exc:
            errors = exc.fields
        else:
            messages.success(request, _("The role was deleted."))
            return redirect(reverse("web:settings") + "#roles")
    elif request.method == "POST":
        post = request.POST
        data: dict[str, Any] = {
            "name": post.get("name", ""),
            "visibility": post.get("visibility", ""),
            "reports_to_id": post.get("reports_to_id") or None,
            "permissions": {key: post.getlist(f"perm-{key}") for key in entities.registered_keys()},
            "requires_2fa": "requires_2fa" in post,
        }
        try:
            if role is None:
                saved = services.role_create(
                    actor=request.user, data={**data, "key": post.get("key", "")}
                )
            else:
                saved = services.role_update(
                    actor=request.user, role_id=role.pk, data=data, version=post.get("version")
                )
        except ValidationFailed as exc:
            errors = exc.fields
        except Conflict as exc:
            errors = {"": [exc.message]}
        else:
            messages.success(request, _("The role %(name)s was saved.") % {"name": saved})
            return redirect(reverse("web:settings") + "#roles")
    matrix = []
    for entity in entities.all_entities():
        if request.method == "POST":
            chosen = set(request.POST.getlist(f"perm-{entity.key}"))
        else:
            chosen = set(permissions.role_actions(role, entity.key)) if role else set()
        matrix.append(
            (entity, [(a, permissions.ACTION_LABELS[a], a in chosen) for a in permissions.ACTIONS])
        )
    context = {
        "nav": "settings",
        "role": role,
        "errors": errors,
        "values": request.POST if request.method == "POST" else {},
        "visibilities": Visibility.choices,
        "roles": Role.objects.exclude(pk=role.pk) if role else Role.objects.all(),
        "matrix": matrix,
        "actions": [(a, permissions.ACTION_LABELS[a]) for a in permissions.ACTIONS],
    }
    return render(request, "web/role_form.html", context, status=422 if errors else 200)


@login_required
@require_POST
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    _require_admin(request)
    try:
        if request.POST.get("delete"):
            services.team_delete(actor=request.user, team_id=team_id)
            messages.success(request, _("The team was deleted; its records keep their owners."))
        else:
            services.team_update(
                actor=request.user,
                team_id=team_id,
                data={"name": request.POST.get("name", "")},
                version=request.POST.get("version"),
            )
            messages.success(request, _("The team was renamed."))
    except (ValidationFailed, Conflict) as exc:
        for message_list in (
            exc.fields.values() if isinstance(exc, ValidationFailed) else [[exc.message]]
        ):
            for message in message_list:
                messages.error(request, message)
    except NotFound:
        messages.error(request, _("This team does not exist any more."))
    return redirect(reverse("web:settings") + "#teams")


@login_required
def custom_field_form(request: HttpRequest, field_id: int | None = None) -> HttpResponse:
    _require_admin(request)
    definition = CustomFieldDefinition.objects.filter(pk=field_id).first() if field_id else None
    if field_id and definition is None:
        raise PermissionDenied
    errors: dict = {}
    values = {}
    if definition:
        values = {
            k: getattr(definition, k)
            for k in (
                "entity",
                "key",
                "label",
                "label_de",
                "field_type",
                "is_required",
                "is_sensitive",
                "help_text",
                "position",
                "is_active",
            )
        }
        values["choices"] = "\n".join(definition.choices)
    if request.method == "POST":
        post = request.POST
        data = {
            "label": post.get("label", ""),
            "label_de": post.get("label_de", ""),
            "choices": post.get("choices", ""),
            "is_required": "is_required" in post,
            "is_sensitive": "is_sensitive" in post,
            "help_text": post.get("help_text", ""),
            "position": post.get("position", "0"),
            "is_active": "is_active" in post,
        }
        if definition is None:
            data.update(
                {
                    "entity": post.get("entity", ""),
                    "key": post.get("key", ""),
                    "field_type": post.get("field_type", ""),
                }
            )
        try:
            if definition is None:
                services.custom_field_create(actor=request.user, data=data)
            else:
                services.custom_field_update(
                    actor=request.user,
                    field_id=definition.pk,
                    data=data,
                    version=post.get("version"),
                )
            messages.success(request, _("The custom field was saved."))
            return redirect(reverse("web:settings") + "#custom-fields")
        except ValidationFailed as exc:
            errors = exc.fields
            values = {
                **values,
                **post.dict(),
                "is_required": "is_required" in post,
                "is_sensitive": "is_sensitive" in post,
                "is_active": "is_active" in post,
            }
    context = {
        "nav": "settings",
        "definition": definition,
        "values": values,
        "errors": errors,
        "field_types": FieldType.choices,
        "entities": [
            (e.key, e.label)
            for e in entities.all_entities()
            if e.key in services.custom_field_entities()
        ],
    }
    return render(request, "web/custom_field_form.html", context, status=422 if errors else 200)
