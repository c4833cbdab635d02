"""Files attached to a customer record. The bytes live in the default storage under
``MEDIA_ROOT`` (outside the web root, never served as static files) under a random name;
the name the user gave is kept in the row."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def storage_path(attachment: Attachment, filename: str) -> str:
    """A random path: the user's file name never reaches the file system."""
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    entity = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    file = models.FileField(upload_to=storage_path, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True)
    erased = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["entity", "object_id", "-created_at"], name="attach_rec_idx")
        ]

    def __str__(self) -> str:
        return self.name
