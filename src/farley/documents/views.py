"""Pages: upload from the 360 page, download as an attachment, remove and restore."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from farley.core import audit, entities
from farley.core.errors import ValidationFailed
from farley.documents import selectors, services
from farley.documents.panels import files_panel


def _record_page(entity: str, object_id: int) -> str:
    return reverse(entities.get(entity).url_name, args=[object_id]) + "#files"


@login_required
@require_POST
def upload(request: HttpRequest, entity: str, object_id: int) -> HttpResponse:
    """Attach a file; an htmx request gets the panel back (with errors at the fields)."""
    record = selectors.parent_record(request.user, entity, object_id)
    errors: dict[str, list[str]] = {}
    try:
        services.attach(
            actor=request.user, entity=entity, object_id=object_id,
            upload=request.FILES.get("file"), description=request.POST.get("description", ""),
        )  # fmt: skip
    except ValidationFailed as exc:
        errors = exc.fields
    if request.headers.get("HX-Request"):
        panel = files_panel(request.user, record, errors=errors)
        return render(
            request, "documents/panels/files.html", {"panel": panel, "record": record},
            status=422 if errors else 200,
        )  # fmt: skip
    if errors:
        for message_list in errors.values():
            for message in message_list:
                messages.error(request, message)
    else:
        messages.success(request, _("The file was attached."))
    return redirect(_record_page(entity, object_id))


@login_required
def download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """Always a download (never shown inline), in a sandbox, of the type checked at upload."""
    attachment = selectors.attachment_for(request.user, attachment_id)
    if attachment.entity == "contact":
        audit.log_access(
            request.user, "contact", attachment.object_id, "view", detail=f"file {attachment.pk}"
        )
    response = FileResponse(
        selectors.open_file(attachment), as_attachment=True, filename=attachment.name,
        content_type=attachment.content_type,
    )  # fmt: skip
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def remove(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment = services.remove(actor=request.user, attachment_id=attachment_id)
    messages.success(request, _("The file was removed from the record."))
    return redirect(_record_page(attachment.entity, attachment.object_id))


@login_required
@require_POST
def restore(request: HttpRequest, attachment_id: int) -> HttpResponse:
    attachment = services.restore(actor=request.user, attachment_id=attachment_id)
    messages.success(request, _("The file was restored."))
    return redirect(_record_page(attachment.entity, attachment.object_id))
