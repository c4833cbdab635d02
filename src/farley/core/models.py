"""Core tables: users, teams, roles, tokens, tags, history, custom fields, saved views, search."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Visibility(models.TextChoices):
    OWN = "own", _("Own records")
    TEAM = "team", _("Team records")
    SUBORDINATES = "subordinates", _("Team records and those of subordinate roles")
    ALL = "all", _("All records")


class Role(models.Model):
    """A role decides which records a user sees (``visibility``, widened by the roles that
    report to it and by sharing) and what they may do with each entity (``permissions``:
    ``{"contact": ["view", "create", ...]}``, see :mod:`farley.core.permissions`)."""

    key = models.SlugField(_("key"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    visibility = models.CharField(
        _("visibility"), max_length=20, choices=Visibility.choices, default=Visibility.TEAM
    )
    reports_to = models.ForeignKey(
        "self",
        verbose_name=_("reports to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subordinate_roles",
    )
    permissions = models.JSONField(_("permissions"), default=dict, blank=True)
    is_administrator = models.BooleanField(_("administers Farley"), default=False)
    requires_2fa = models.BooleanField(_("requires two-factor authentication"), default=False)
    is_built_in = models.BooleanField(default=False, editable=False)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return str(_(self.name))


class Team(models.Model):
    """A group of users who share records."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("team lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        """Sign-in ignores the case of the email address (stored in lower case)."""
        return self.get(email__iexact=username or "")

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role_id", Role.objects.get(key="administrator").pk)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who works with Farley; logs in with an email address."""

    email = models.EmailField(_("email"), unique=True)
    full_name = models.CharField(_("name"), max_length=150, blank=True)
    role = models.ForeignKey(Role, verbose_name=_("role"), on_delete=models.PROTECT)
    teams = models.ManyToManyField(
        Team, verbose_name=_("teams"), blank=True, related_name="members"
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True, default=""
    )
    # An IANA zone such as "America/New_York"; empty: the installation's (FARLEY_TIME_ZONE).
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("may use the operator admin"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    # Two-factor authentication (TOTP, RFC 6238): the shared secret once confirmed, and the
    # hashes of the unused one-time recovery codes.
    totp_secret = models.CharField(max_length=64, blank=True, editable=False)
    totp_recovery_hashes = models.JSONField(default=list, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["full_name", "email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


class ApiToken(models.Model):
    """A bearer token for the REST API. Only a hash is stored; the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    # {"contact": "read", "account": "write"}: what the token may do, within what its user may
    # do; empty means everything its user may do.
    scopes = models.JSONField(_("scopes"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @property
    def is_usable(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class Tag(models.Model):
    """A free label that can be put on accounts and contacts."""

    name = models.CharField(_("name"), max_length=60)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="tag_name_unique_ci")]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class CustomerRecord(models.Model):
    """What every customer-data entity has: owner, team, version, soft delete, custom fields."""

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # No single-column indexes: each subclass declares (owner, <sort>) and (team, <sort>)
    # indexes, which serve the visibility filter and the foreign-key checks alike.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True, editable=False)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        db_index=False,  # users are deactivated, not deleted; no lookups by it
    )
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class ChangeAction(models.TextChoices):
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    DELETE = "delete", _("deleted")
    RESTORE = "restore", _("restored")
    ERASE = "erase", _("personal data erased")
    EXPORT = "export", _("personal data exported")


class ChangeRecord(models.Model):
    """One create, update, delete or restore of a record, with the old and new value of each field."""

    entity = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    action = models.CharField(max_length=10, choices=ChangeAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["entity", "object_id", "-at"], name="change_record_lookup")]
        verbose_name = _("change")
        verbose_name_plural = _("changes")

    def __str__(self) -> str:
        return f"{self.entity}#{self.object_id} {self.action}"


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    INTEGER = "integer", _("Whole number")
    DECIMAL = "decimal", _("Decimal number")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes/no")
    CHOICE = "choice", _("Single choice")
    MULTI_CHOICE = "multi_choice", _("Multiple choice")
    URL = "url", _("URL")
    EMAIL = "email", _("Email")


class CustomFieldDefinition(models.Model):
    """An extra field that administrators add to an entity (xRM)."""

    entity = models.CharField(_("entity"), max_length=40)
    key = models.SlugField(_("key"), max_length=50)
    label = models.CharField(_("label"), max_length=100)
    label_de = models.CharField(_("German label"), max_length=100, blank=True)
    field_type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    is_required = models.BooleanField(_("required"), default=False)
    is_sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_("Only roles that may see sensitive data see it (also in exports and the API)."),
    )
    help_text = models.CharField(_("help text"), max_length=200, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["entity", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "key"], name="custom_field_key_unique")
        ]
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")

    def __str__(self) -> str:
        return f"{self.entity}.{self.key}"

    def display_label(self, language: str | None = None) -> str:
        from django.utils.translation import get_language

        if (language or get_language() or "en").startswith("de") and self.label_de:
            return self.label_de
        return self.label


class SavedView(models.Model):
    """A named list filter, private to its owner or shared with a team."""

    entity = models.CharField(max_length=40)
    name = models.CharField(_("name"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    shared_with_team = models.ForeignKey(
        Team, verbose_name=_("shared with team"), null=True, blank=True, on_delete=models.CASCADE
    )
    query = models.CharField(max_length=2000, blank=True)
    columns = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")

    def __str__(self) -> str:
        return self.name


class SearchDocument(models.Model):
    """The search index row of one record; kept in step by the services that write the record."""

    entity = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    owner_id = models.BigIntegerField(null=True)  # null: a team's (e.g. a queued task)
    team_id = models.BigIntegerField(null=True)
    title = models.CharField(max_length=300)
    subtitle = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "object_id"], name="search_document_unique")
        ]
        # No owner/team indexes: searches start from the text index and only then filter by
        # visibility, so they would cost every write and serve no read.

    def __str__(self) -> str:
        return f"{self.entity}#{self.object_id}"


class Sequence(models.Model):
    """A named counter for gap-free numbers (customer numbers, later quote numbers)."""

    name = models.CharField(max_length=50, unique=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class SearchWord(models.Model):
    """One word of the search vocabulary (see :mod:`farley.core.vocabulary`)."""

    word = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.word


class SharingRule(models.Model):
    """Share every record of an entity that matches ``criteria`` (list filters, e.g.
    ``{"country": "AT", "postal_code": "1"}``) with a team: territories."""

    entity = models.CharField(_("entity"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    criteria = models.JSONField(_("criteria"), default=dict)
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE)
    can_edit = models.BooleanField(_("may edit"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["entity", "name"]
        verbose_name = _("sharing rule")
        verbose_name_plural = _("sharing rules")

    def __str__(self) -> str:
        return self.name


class RecordShare(models.Model):
    """One record made visible to a user or a team beyond its owner and team: by hand or by
    a sharing rule (``rule``)."""

    entity = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    can_edit = models.BooleanField(_("may edit"), default=False)
    rule = models.ForeignKey(SharingRule, null=True, blank=True, on_delete=models.CASCADE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["entity", "user", "object_id"], name="share_user_idx"),
            models.Index(fields=["entity", "team", "object_id"], name="share_team_idx"),
            models.Index(fields=["entity", "object_id"], name="share_record_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(user__isnull=False) & models.Q(team__isnull=True))
                | (models.Q(user__isnull=True) & models.Q(team__isnull=False)),
                name="share_user_or_team",
            )
        ]

    def __str__(self) -> str:
        return f"{self.entity}#{self.object_id} → {self.user or self.team}"


class LoginAttempt(models.Model):
    """One sign-in attempt, for the temporary lockout after repeated failures."""

    email = models.CharField(max_length=254)
    ip = models.GenericIPAddressField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["email", "at"], name="login_email_idx"),
            models.Index(fields=["ip", "at"], name="login_ip_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} {'ok' if self.succeeded else 'failed'} {self.at:%Y-%m-%d %H:%M}"


class UserSession(models.Model):
    """A signed-in browser of a user, so that they can see and end their sessions."""

    session_key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="browser_sessions"
    )
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.user_agent[:40]}"


class AccessLog(models.Model):
    """Who looked at or exported whose personal data, when (for the data-protection officer)."""

    class Action(models.TextChoices):
        VIEW = "view", _("viewed")
        EXPORT = "export", _("exported")
        PRIVACY_EXPORT = "privacy_export", _("exported all data")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    entity = models.CharField(max_length=40)
    object_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    channel = models.CharField(max_length=10, default="ui")  # ui or api
    detail = models.CharField(max_length=300, blank=True)  # e.g. an export's filters and count
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["entity", "object_id", "-at"], name="access_record_idx"),
            models.Index(fields=["user", "-at"], name="access_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.action} {self.entity}#{self.object_id}"


class ApiTokenUse(models.Model):
    """One request made with an API token (the token-use log)."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="uses")
    at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["token", "-at"], name="token_use_idx")]

    def __str__(self) -> str:
        return f"{self.token_id} {self.method} {self.path}"


class LegalBasis(models.TextChoices):
    """GDPR Art. 6(1)."""

    CONSENT = "consent", _("consent (a)")
    CONTRACT = "contract", _("contract (b)")
    LEGAL_OBLIGATION = "legal_obligation", _("legal obligation (c)")
    VITAL_INTERESTS = "vital_interests", _("vital interests (d)")
    PUBLIC_TASK = "public_task", _("public task (e)")
    LEGITIMATE_INTERESTS = "legitimate_interests", _("legitimate interests (f)")


class ProcessingRecord(models.Model):
    """The register of processing (GDPR Art. 30): why an entity, or one of its custom fields
    (``field``), holds personal data, on which legal basis and for how long."""

    entity = models.CharField(_("entity"), max_length=40)
    field = models.CharField(_("field"), max_length=60, blank=True)
    purpose = models.TextField(_("purpose"), blank=True)
    legal_basis = models.CharField(
        _("legal basis"), max_length=30, choices=LegalBasis.choices, blank=True
    )
    retention = models.CharField(_("retention"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["entity", "field"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "field"], name="processing_entity_field")
        ]

    def __str__(self) -> str:
        return f"{self.entity}.{self.field}" if self.field else self.entity


class RetentionPolicy(models.Model):
    """Contacts without activity for ``inactive_months`` (and matching ``criteria``, list
    filters) are flagged with a tag or anonymised: after a preview by hand, or by
    ``farley apply-retention`` when ``automatic``."""

    class Action(models.TextChoices):
        FLAG = "flag", _("flag for review")
        ANONYMISE = "anonymise", _("anonymise")

    name = models.CharField(_("name"), max_length=120)
    inactive_months = models.PositiveIntegerField(_("months without activity"), default=24)
    criteria = models.JSONField(_("criteria"), default=dict, blank=True)
    action = models.CharField(
        _("action"), max_length=20, choices=Action.choices, default=Action.FLAG
    )
    automatic = models.BooleanField(_("runs automatically"), default=False)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_run_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """A message for one user in the app (the bell in the navigation): a reminder, an
    escalation. ``url`` leads to what it is about; ``read_at`` is set when they open it."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("Reminder")
        ESCALATION = "escalation", _("Escalation")
        INVITATION = "invitation", _("Invitation")
        REPLY = "reply", _("Answer to an invitation")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(max_length=500, blank=True)
    # The record it is about (entity key and id), for erasure and for grouping.
    entity = models.CharField(max_length=40, blank=True)
    object_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_user_idx"),
            models.Index(fields=["entity", "object_id"], name="notification_record_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class SystemState(models.Model):
    """What maintenance last did, kept in the database so that a restart neither repeats nor
    forgets it: e.g. how the search keys were built (:mod:`farley.core.search_keys`) or when
    the search indexes were last purged after an erasure."""

    name = models.CharField(max_length=60, unique=True)
    value = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"
