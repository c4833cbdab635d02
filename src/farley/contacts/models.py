"""Accounts (companies), contacts (people), their channels, addresses, links and timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from farley.core.models import CustomerRecord, Tag


class AccountStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    CUSTOMER = "customer", _("Customer")
    FORMER_CUSTOMER = "former_customer", _("Former customer")
    PARTNER = "partner", _("Partner")
    COMPETITOR = "competitor", _("Competitor")


class Salutation(models.TextChoices):
    NONE = "", _("(none)")
    MR = "mr", _("Mr")
    MS = "ms", _("Ms")
    MX = "mx", _("Mx")


class Channel(models.TextChoices):
    NONE = "", _("(no preference)")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    LETTER = "letter", _("Letter")
    MEETING = "meeting", _("Meeting")


class Account(CustomerRecord):
    """A company or organisation Farley keeps a relationship with."""

    name = models.CharField(_("name"), max_length=200)
    legal_form = models.CharField(_("legal form"), max_length=40, blank=True)
    industry_code = models.CharField(_("industry code (NACE/WZ)"), max_length=10, blank=True)
    industry_label = models.CharField(_("industry"), max_length=200, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    annual_revenue = models.DecimalField(
        _("annual revenue"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    revenue_currency = models.CharField(_("currency"), max_length=3, default="EUR")
    website = models.URLField(_("website"), max_length=300, blank=True)
    vat_id = models.CharField(_("VAT ID"), max_length=20, blank=True)
    customer_number = models.CharField(_("customer number"), max_length=20, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=AccountStatus.choices, default=AccountStatus.PROSPECT
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="accounts")
    description = models.TextField(_("description"), blank=True)
    last_interaction_at = models.DateTimeField(_("last interaction"), null=True, blank=True)
    # Copies of the first email, phone and address, kept by the services for fast lists.
    primary_email = models.CharField(_("email"), max_length=254, blank=True)
    primary_phone = models.CharField(_("phone"), max_length=20, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        indexes = [
            models.Index(fields=["name", "id"], name="account_name_idx"),
            models.Index(fields=["postal_code", "id"], name="account_plz_idx"),
            models.Index(fields=["city", "id"], name="account_city_idx"),
            # Partial (live records only) and in list order: a restricted user's page takes
            # the first rows of their own and their teams' records from these alone
            # (farley.core.visibility.visible_parts).
            models.Index(
                fields=["owner", "team", "name"],
                name="account_owner_idx",
                condition=models.Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["team", "name"],
                name="account_team_idx",
                condition=models.Q(deleted_at__isnull=True),
            ),
            models.Index(fields=["last_interaction_at"], name="account_last_interaction_idx"),
            models.Index(fields=["updated_at", "id"], name="account_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(CustomerRecord):
    """A person: a customer, a prospect, someone at a partner."""

    salutation = models.CharField(
        _("salutation"), max_length=4, choices=Salutation.choices, blank=True
    )
    academic_title = models.CharField(_("academic title"), max_length=40, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    department = models.CharField(_("department"), max_length=120, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=10, choices=Channel.choices, blank=True
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="contacts")
    description = models.TextField(_("notes"), blank=True)
    last_interaction_at = models.DateTimeField(_("last interaction"), null=True, blank=True)
    primary_account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    primary_email = models.CharField(_("email"), max_length=254, blank=True)
    primary_phone = models.CharField(_("phone"), max_length=20, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["last_name", "first_name", "id"], name="contact_name_idx"),
            models.Index(fields=["postal_code", "id"], name="contact_plz_idx"),
            models.Index(fields=["city", "id"], name="contact_city_idx"),
            # Partial (live records only) and in list order: a restricted user's page takes
            # the first rows of their own and their teams' records from these alone
            # (farley.core.visibility.visible_parts).
            models.Index(
                fields=["owner", "team", "last_name", "first_name"],
                name="contact_owner_idx",
                condition=models.Q(deleted_at__isnull=True),
            ),
            models.Index(
                fields=["team", "last_name", "first_name"],
                name="contact_team_idx",
                condition=models.Q(deleted_at__isnull=True),
            ),
            models.Index(fields=["last_interaction_at"], name="contact_last_interaction_idx"),
            models.Index(fields=["updated_at", "id"], name="contact_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        parts = [self.academic_title, self.first_name, self.last_name]
        return " ".join(p for p in parts if p)

    @property
    def name(self) -> str:
        return self.full_name


def _exactly_one_parent() -> Q:
    return Q(account__isnull=False, contact__isnull=True) | Q(
        account__isnull=True, contact__isnull=False
    )


class EmailKind(models.TextChoices):
    WORK = "work", _("Work")
    PRIVATE = "private", _("Private")
    OTHER = "other", _("Other")


class PhoneKind(models.TextChoices):
    WORK = "work", _("Work")
    MOBILE = "mobile", _("Mobile")
    PRIVATE = "private", _("Private")
    FAX = "fax", _("Fax")
    OTHER = "other", _("Other")


class AddressKind(models.TextChoices):
    BUSINESS = "business", _("Business")
    BILLING = "billing", _("Billing")
    SHIPPING = "shipping", _("Shipping")
    PRIVATE = "private", _("Private")
    OTHER = "other", _("Other")


class EmailAddress(models.Model):
    """An email address of an account or a contact."""

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="emails"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="emails"
    )
    address = models.CharField(_("email"), max_length=254)
    kind = models.CharField(
        _("type"), max_length=10, choices=EmailKind.choices, default=EmailKind.WORK
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=_exactly_one_parent(), name="email_one_parent")
        ]
        indexes = [models.Index(fields=["address"], name="email_address_idx")]

    def __str__(self) -> str:
        return self.address


class PhoneNumber(models.Model):
    """A phone number of an account or a contact, stored in E.164."""

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="phones"
    )
    number = models.CharField(_("number"), max_length=20)
    kind = models.CharField(
        _("type"), max_length=10, choices=PhoneKind.choices, default=PhoneKind.WORK
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=_exactly_one_parent(), name="phone_one_parent")
        ]
        indexes = [models.Index(fields=["number"], name="phone_number_idx")]

    def __str__(self) -> str:
        return self.number

    @property
    def display(self) -> str:
        from farley.core.validation import phone_display

        return phone_display(self.number)


class PostalAddress(models.Model):
    """A postal address of an account or a contact."""

    # Indexed by (account, postal_code) and (contact, postal_code) below, not on their own.
    account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="addresses",
        db_index=False,
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="addresses",
        db_index=False,
    )
    kind = models.CharField(
        _("type"), max_length=10, choices=AddressKind.choices, default=AddressKind.BUSINESS
    )
    street = models.CharField(_("street"), max_length=200, blank=True)
    house_number = models.CharField(_("house number"), max_length=20, blank=True)
    extra = models.CharField(_("address line 2"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="DE")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=_exactly_one_parent(), name="address_one_parent")
        ]
        indexes = [
            models.Index(fields=["postal_code"], name="address_plz_idx"),
            models.Index(fields=["city"], name="address_city_idx"),
            # The postal-code filter tested on a record's addresses from the index alone: a
            # restricted user's list tests it on every record shared with them (a territory
            # rule shares thousands) before reading any of them. They also serve the foreign
            # keys.
            models.Index(fields=["contact", "postal_code"], name="address_contact_plz_idx"),
            models.Index(fields=["account", "postal_code"], name="address_account_plz_idx"),
        ]

    def __str__(self) -> str:
        return ", ".join(
            p
            for p in [
                f"{self.street} {self.house_number}".strip(),
                f"{self.postal_code} {self.city}".strip(),
                self.country,
            ]
            if p
        )


class ContactAccountLink(models.Model):
    """A contact works at, or is otherwise tied to, an account, in a role."""

    # The (contact, account) unique index serves lookups by contact.
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="account_links", db_index=False
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contact_links")
    role = models.CharField(_("role"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contact", "account"], name="contact_account_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} @ {self.account_id}"


class RelationshipType(models.Model):
    """A kind of directed relation, e.g. "reports to" / "has report"."""

    key = models.SlugField(_("key"), max_length=50, unique=True)
    label = models.CharField(_("label"), max_length=100)
    label_de = models.CharField(_("German label"), max_length=100, blank=True)
    inverse_label = models.CharField(_("inverse label"), max_length=100)
    inverse_label_de = models.CharField(_("German inverse label"), max_length=100, blank=True)
    is_built_in = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["label"]
        verbose_name = _("relationship type")
        verbose_name_plural = _("relationship types")

    def __str__(self) -> str:
        return self.display_label()

    def display_label(self, inverse: bool = False) -> str:
        from django.utils.translation import get_language

        german = (get_language() or "en").startswith("de")
        if inverse:
            return self.inverse_label_de if german and self.inverse_label_de else self.inverse_label
        return self.label_de if german and self.label_de else self.label

    def display_inverse(self) -> str:
        return self.display_label(inverse=True)


class Relationship(models.Model):
    """A typed, directed link from one account or contact to another."""

    type = models.ForeignKey(RelationshipType, verbose_name=_("type"), on_delete=models.PROTECT)
    from_account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="relations_out"
    )
    from_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="relations_out"
    )
    to_account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="relations_in"
    )
    to_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="relations_in"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(from_account__isnull=False, from_contact__isnull=True)
                | Q(from_account__isnull=True, from_contact__isnull=False),
                name="relationship_one_source",
            ),
            models.CheckConstraint(
                condition=Q(to_account__isnull=False, to_contact__isnull=True)
                | Q(to_account__isnull=True, to_contact__isnull=False),
                name="relationship_one_target",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.type} {self.target}"

    @property
    def source(self) -> Account | Contact:
        return self.from_account or self.from_contact

    @property
    def target(self) -> Account | Contact:
        return self.to_account or self.to_contact


class InteractionKind(models.TextChoices):
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    LETTER = "letter", _("Letter")
    SMS = "sms", _("SMS")
    WEB = "web", _("Web")
    OTHER = "other", _("Other")


class Direction(models.TextChoices):
    NONE = "", _("(none)")
    INBOUND = "in", _("Inbound")
    OUTBOUND = "out", _("Outbound")


class TimelineEntry(models.Model):
    """An interaction with a customer: a note, call, email, meeting, letter, SMS, web visit."""

    kind = models.CharField(
        _("type"), max_length=10, choices=InteractionKind.choices, default=InteractionKind.NOTE
    )
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, blank=True
    )
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("details"), blank=True)
    # "html": the body is sanitised HTML (emails, API clients); "text": plain text.
    body_format = models.CharField(
        _("format"), max_length=4, choices=[("text", _("plain text")), ("html", "HTML")],
        default="text",
    )  # fmt: skip
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    # The (contact, -occurred_at) and (account, -occurred_at) indexes below serve these keys.
    account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="timeline",
        db_index=False,
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="timeline",
        db_index=False,
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # users are deactivated, not deleted; no lookups by author yet
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False) | Q(contact__isnull=False),
                name="timeline_has_record",
            )
        ]
        indexes = [
            models.Index(fields=["contact", "-occurred_at"], name="timeline_contact_idx"),
            models.Index(fields=["account", "-occurred_at"], name="timeline_account_idx"),
        ]

    def __str__(self) -> str:
        return self.subject


class SharedAddress(models.Model):
    """Where an account or contact shared with a user or a team is: a copy of each of its
    addresses' postal code, city and country per share (:class:`RecordShare`).

    A restricted user's list filtered by place then finds the records shared with them in one
    range of an index of this table, where testing the filter on the addresses of every shared
    record cost an index probe each (a territory rule shares thousands with a team). It only
    narrows: the list still tests the share itself and the addresses, so a copy that is not
    up to date could hide a record but never show one. Kept by
    :mod:`farley.contacts.shared_addresses` whenever the shares or the addresses change."""

    share = models.ForeignKey(
        "core.RecordShare", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    entity = models.CharField(max_length=40)
    object_id = models.BigIntegerField()
    # The share's principal, copied: the indexes begin with it.
    user_id = models.BigIntegerField(null=True)
    team_id = models.BigIntegerField(null=True)
    postal_code = models.CharField(max_length=12, blank=True)
    # Casefolded, which may make it longer than the address's (at most 100 characters).
    city = models.CharField(max_length=300, blank=True)
    country = models.CharField(max_length=2, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["share"], name="shared_address_share_idx"),
            models.Index(fields=["entity", "object_id"], name="shared_address_record_idx"),
            models.Index(
                fields=["entity", "team_id", "postal_code"], name="shared_address_team_plz_idx"
            ),
            models.Index(
                fields=["entity", "user_id", "postal_code"], name="shared_address_user_plz_idx"
            ),
            models.Index(fields=["entity", "team_id", "city"], name="shared_address_team_city_idx"),
            models.Index(fields=["entity", "user_id", "city"], name="shared_address_user_city_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.entity} {self.object_id}: {self.postal_code} {self.city}".strip()
