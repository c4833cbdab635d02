"""API for files attached to records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import File, Form, Router, Schema, Status, UploadedFile

from farley.core import audit
from farley.core.apiutil import ERRORS
from farley.documents import files, selectors, services
from farley.documents.models import Attachment

router = Router(tags=["files"])


class AttachmentOut(Schema):
    id: int
    entity: str
    object_id: int
    name: str
    content_type: str
    size: int
    sha256: str
    description: str
    uploaded_by_id: int | None
    created_at: dt.datetime
    removed: bool


def attachment_out(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.pk, "entity": a.entity, "object_id": a.object_id, "name": a.name,
        "content_type": a.content_type, "size": a.size, "sha256": a.sha256,
        "description": a.description, "uploaded_by_id": a.uploaded_by_id,
        "created_at": a.created_at, "removed": a.deleted_at is not None,
    }  # fmt: skip


@router.get(
    "/attachments",
    response={200: list[AttachmentOut], **ERRORS},
    description="The files of a record (`entity`: account or contact); `removed=true` lists "
    "the files taken off it.",
)
def attachment_list(request: HttpRequest, entity: str, object_id: int, removed: bool = False):
    rows = selectors.attachments_of(request.user, entity, object_id, removed=removed)
    return [attachment_out(a) for a in rows]


@router.post(
    "/attachments",
    response={201: AttachmentOut, **ERRORS},
    description="Attach a file (multipart: `entity`, `object_id`, `file`, `description`). "
    f"Accepted types, checked by content: {', '.join(files.ALLOWED_EXTENSIONS)}; at most "
    "`FARLEY_MAX_ATTACHMENT_MB` (default 20) MB.",
)
def attachment_create(
    request: HttpRequest,
    entity: Form[str],
    object_id: Form[int],
    file: File[UploadedFile],
    description: Form[str] = "",
):
    attachment = services.attach(
        actor=request.user, entity=entity, object_id=object_id, upload=file,
        description=description,
    )  # fmt: skip
    return Status(201, attachment_out(attachment))


@router.get("/attachments/{attachment_id}", response={200: AttachmentOut, **ERRORS})
def attachment_detail(request: HttpRequest, attachment_id: int):
    return attachment_out(selectors.attachment_for(request.user, attachment_id))


@router.get(
    "/attachments/{attachment_id}/download",
    response={200: None, **ERRORS},
    description="The file's bytes, as an attachment.",
)
def attachment_download(request: HttpRequest, attachment_id: int):
    attachment = selectors.attachment_for(request.user, attachment_id)
    if attachment.entity == "contact":
        audit.log_access(
            request.user, "contact", attachment.object_id, "view", channel="api",
            detail=f"file {attachment.pk}",
        )  # fmt: skip
    response = FileResponse(
        selectors.open_file(attachment), as_attachment=True, filename=attachment.name,
        content_type=attachment.content_type,
    )  # fmt: skip
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    return response


@router.delete(
    "/attachments/{attachment_id}",
    response={204: None, **ERRORS},
    description="Take the file off its record; it stays stored and can be restored.",
)
def attachment_remove(request: HttpRequest, attachment_id: int):
    services.remove(actor=request.user, attachment_id=attachment_id)
    return Status(204, None)


@router.post("/attachments/{attachment_id}/restore", response={200: AttachmentOut, **ERRORS})
def attachment_restore(request: HttpRequest, attachment_id: int):
    return attachment_out(services.restore(actor=request.user, attachment_id=attachment_id))
