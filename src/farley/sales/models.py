"""Sales: leads, pipelines with stages, opportunities (deals) with contacts, line items and
stage history, products and price lists, quotes (numbered, versioned) and orders, targets.

Money is ``Decimal`` with two places (``MONEY``) in a currency (ISO 4217); quantities have
three places. Totals are computed by :mod:`farley.sales.money` and stored with the record so
that lists and reports sum them in SQL.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from farley.contacts.models import Account, Contact
from farley.core.models import CustomerRecord, Team

MONEY = {"max_digits": 16, "decimal_places": 2}
QUANTITY = {"max_digits": 14, "decimal_places": 3}
PERCENT = {"max_digits": 5, "decimal_places": 2}


class TaxRate(models.TextChoices):
    """German VAT: 19 %, 7 %, 0 % and reverse charge (§ 13b UStG: the customer owes the VAT)."""

    STANDARD = "19", _("19 % VAT")
    REDUCED = "7", _("7 % VAT")
    ZERO = "0", _("0 % VAT")
    REVERSE_CHARGE = "rc", _("reverse charge")

    @classmethod
    def percent(cls, code: str) -> Decimal:
        return Decimal("0") if code == cls.REVERSE_CHARGE else Decimal(code)


# --- leads ------------------------------------------------------------------------------------


class LeadSource(models.TextChoices):
    WEB = "web", _("Website")
    FAIR = "fair", _("Trade fair")
    REFERRAL = "referral", _("Referral")
    CAMPAIGN = "campaign", _("Campaign")
    COLD_CALL = "cold_call", _("Cold call")
    PARTNER = "partner", _("Partner")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone enquiry")
    OTHER = "other", _("Other")


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    QUALIFIED = "qualified", _("Qualified")
    DISQUALIFIED = "disqualified", _("Disqualified")
    CONVERTED = "converted", _("Converted")


class Lead(CustomerRecord):
    """A first contact who is not a customer yet: a person, usually at a company."""

    company_name = models.CharField(_("company"), max_length=200, blank=True)
    salutation = models.CharField(_("salutation"), max_length=4, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)  # E.164
    website = models.URLField(_("website"), max_length=300, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=12, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True)
    industry_code = models.CharField(_("industry code (NACE/WZ)"), max_length=10, blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=LeadSource.choices, default=LeadSource.OTHER
    )
    status = models.CharField(
        _("status"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    disqualify_reason = models.CharField(
        _("reason for disqualification"), max_length=300, blank=True
    )
    description = models.TextField(_("description"), blank=True)
    estimated_value = models.DecimalField(_("estimated value"), null=True, blank=True, **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    converted_at = models.DateTimeField(_("converted"), null=True, blank=True)
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", db_index=False,
    )  # fmt: skip
    converted_account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="converted_leads"
    )
    converted_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="converted_leads"
    )
    converted_opportunity = models.ForeignKey(
        "Opportunity", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["owner", "created_at"], name="lead_owner_idx"),
            models.Index(fields=["team", "created_at"], name="lead_team_idx"),
            models.Index(fields=["status", "created_at"], name="lead_status_idx"),
            models.Index(fields=["email"], name="lead_email_idx"),
            models.Index(fields=["last_name", "id"], name="lead_name_idx"),
            models.Index(fields=["last_activity_at"], name="lead_activity_idx"),
        ]

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def __str__(self) -> str:
        name = self.full_name
        if name and self.company_name:
            return f"{name} ({self.company_name})"
        return name or self.company_name or f"#{self.pk}"


class AssignmentMethod(models.TextChoices):
    ROUND_ROBIN = "round_robin", _("Round robin within the team")
    TERRITORY = "territory", _("Territory (to the team's lead or the chosen user)")


class AssignmentRule(models.Model):
    """Assigns new leads (and their team) automatically: the first active rule, in ``order``,
    whose territory (countries, postal-code range, industry prefix) matches the lead."""

    name = models.CharField(_("name"), max_length=120)
    order = models.PositiveIntegerField(_("sort order"), default=100)
    active = models.BooleanField(_("active"), default=True)
    method = models.CharField(_("method"), max_length=20, choices=AssignmentMethod.choices)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )  # fmt: skip
    countries = models.CharField(_("countries"), max_length=200, blank=True)  # "DE,AT,CH"
    postal_code_from = models.CharField(_("postal code from"), max_length=12, blank=True)
    postal_code_to = models.CharField(_("postal code to"), max_length=12, blank=True)
    industry_prefix = models.CharField(_("industry code starts with"), max_length=10, blank=True)
    sources = models.CharField(_("sources"), max_length=200, blank=True)  # "web,fair"
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name


# --- pipelines and opportunities -------------------------------------------------------------


class Pipeline(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    order = models.PositiveIntegerField(_("sort order"), default=100)
    is_default = models.BooleanField(_("default"), default=False)
    active = models.BooleanField(_("active"), default=True)
    stale_after_days = models.PositiveIntegerField(
        _("stale after days without activity"), default=30
    )

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class StageKind(models.TextChoices):
    OPEN = "open", _("open")
    WON = "won", _("won")
    LOST = "lost", _("lost")


class Stage(models.Model):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=120)
    name_de = models.CharField(_("name (German)"), max_length=120, blank=True)
    order = models.PositiveIntegerField(_("sort order"), default=100)
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), default=10)
    kind = models.CharField(
        _("kind"), max_length=4, choices=StageKind.choices, default=StageKind.OPEN
    )

    class Meta:
        ordering = ["pipeline", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_unique_name"),
            models.CheckConstraint(condition=models.Q(probability__lte=100), name="stage_probability_max"),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.display_name()

    def display_name(self, language: str = "") -> str:
        from django.utils.translation import get_language

        return (
            self.name_de if (language or get_language() or "").startswith("de") else ""
        ) or self.name


class LossReason(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    name_de = models.CharField(_("name (German)"), max_length=120, blank=True)
    order = models.PositiveIntegerField(_("sort order"), default=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "name"]

    def __str__(self) -> str:
        from django.utils.translation import get_language

        return (self.name_de if (get_language() or "").startswith("de") else "") or self.name


class Opportunity(CustomerRecord):
    """A deal: what an account may buy, how likely, by when, in which pipeline stage."""

    name = models.CharField(_("name"), max_length=200)
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="opportunities"
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField(_("amount"), default=Decimal("0"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    # None: the stage's probability; a number: the owner's own estimate.
    probability_override = models.PositiveSmallIntegerField(
        _("probability (%)"), null=True, blank=True
    )
    probability = models.PositiveSmallIntegerField(_("probability (%)"), default=10)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    competitor = models.CharField(_("competitor"), max_length=200, blank=True)
    loss_reason = models.ForeignKey(
        LossReason, verbose_name=_("loss reason"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )  # fmt: skip
    loss_note = models.CharField(_("loss note"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    source_lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    stage_changed_at = models.DateTimeField(_("in stage since"), default=timezone.now)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), null=True, blank=True)
    # Rank within the stage column of the board (smaller first).
    board_rank = models.FloatField(default=0)

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["pipeline", "stage", "board_rank", "id"], name="opp_board_idx"),
            # The board's column counts and sums read this index alone (no table rows).
            models.Index(
                fields=["pipeline", "stage", "currency", "amount", "owner", "team"],
                condition=models.Q(deleted_at__isnull=True),
                name="opp_board_totals_idx",
            ),
            models.Index(fields=["owner", "expected_close_date"], name="opp_owner_idx"),
            models.Index(fields=["team", "expected_close_date"], name="opp_team_idx"),
            models.Index(fields=["expected_close_date", "id"], name="opp_close_idx"),
            models.Index(fields=["account", "-created_at"], name="opp_account_idx"),
            models.Index(fields=["closed_at"], name="opp_closed_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class ContactRole(models.TextChoices):
    DECISION_MAKER = "decision_maker", _("Decision maker")
    INFLUENCER = "influencer", _("Influencer")
    ECONOMIC_BUYER = "economic_buyer", _("Economic buyer")
    TECHNICAL_BUYER = "technical_buyer", _("Technical buyer")
    USER = "user", _("User")
    CHAMPION = "champion", _("Champion")
    OTHER = "other", _("Other")


class OpportunityContact(models.Model):
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="contact_roles"
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="opportunity_roles")
    role = models.CharField(
        _("role"), max_length=20, choices=ContactRole.choices, default=ContactRole.OTHER
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "contact"], name="opp_contact_unique")
        ]

    def __str__(self) -> str:
        return f"{self.contact} ({self.get_role_display()})"


class StageChange(models.Model):
    """Every move of a deal between stages, for the stage history and the cycle analyses."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.DecimalField(default=Decimal("0"), **MONEY)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["opportunity", "changed_at"], name="stagechange_opp_idx")]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage}"


# --- products and price lists ---------------------------------------------------------------


class ProductUnit(models.TextChoices):
    PIECE = "piece", _("piece")
    HOUR = "hour", _("hour")
    DAY = "day", _("day")
    MONTH = "month", _("month")
    YEAR = "year", _("year")
    LICENSE = "license", _("licence")
    FLAT = "flat", _("flat rate")
    KG = "kg", _("kg")
    METRE = "m", _("metre")


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    is_service = models.BooleanField(_("service"), default=False)
    unit = models.CharField(
        _("unit"), max_length=10, choices=ProductUnit.choices, default=ProductUnit.PIECE
    )
    list_price = models.DecimalField(_("list price"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    tax_rate = models.CharField(
        _("tax rate"), max_length=3, choices=TaxRate.choices, default=TaxRate.STANDARD
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class PriceList(models.Model):
    """Prices for a customer group (accounts carry the group) in one currency."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    customer_group = models.CharField(_("customer group"), max_length=60, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PriceListItem(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    unit_price = models.DecimalField(_("unit price"), **MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product"], name="pricelist_product_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.price_list}: {self.product} {self.unit_price}"


# --- quotes and orders ------------------------------------------------------------------------


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Superseded by a newer version")


class Quote(CustomerRecord):
    """An offer (Angebot). ``number`` is shared by all versions; revising a sent quote makes
    version n+1 and leaves the old one readable."""

    number = models.CharField(_("number"), max_length=40)
    revision = models.PositiveIntegerField(_("version of the quote"), default=1)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="revisions"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="quotes"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
    )
    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="quotes",
    )  # fmt: skip
    price_list = models.ForeignKey(
        PriceList,
        verbose_name=_("price list"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    language = models.CharField(_("language"), max_length=2, default="de")
    status = models.CharField(
        _("status"), max_length=12, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT
    )
    quote_date = models.DateField(_("date"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"))
    discount_percent = models.DecimalField(_("discount (%)"), default=Decimal("0"), **PERCENT)
    discount_amount = models.DecimalField(_("discount"), default=Decimal("0"), **MONEY)
    introduction = models.TextField(_("introduction"), blank=True)
    terms = models.TextField(_("terms"), blank=True)
    net_total = models.DecimalField(_("net total"), default=Decimal("0"), **MONEY)
    tax_total = models.DecimalField(_("tax"), default=Decimal("0"), **MONEY)
    gross_total = models.DecimalField(_("gross total"), default=Decimal("0"), **MONEY)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    decided_at = models.DateTimeField(_("accepted or rejected"), null=True, blank=True)

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.UniqueConstraint(
                fields=["number", "revision"], name="quote_number_revision_unique"
            )
        ]
        indexes = [
            models.Index(fields=["owner", "-quote_date"], name="quote_owner_idx"),
            models.Index(fields=["team", "-quote_date"], name="quote_team_idx"),
            models.Index(fields=["account", "-quote_date"], name="quote_account_idx"),
            models.Index(fields=["status", "valid_until"], name="quote_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number}" + (f" v{self.revision}" if self.revision > 1 else "")


class LineBase(models.Model):
    position = models.PositiveIntegerField(_("position"), default=1)
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sku = models.CharField(_("SKU"), max_length=40, blank=True)
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit = models.CharField(
        _("unit"), max_length=10, choices=ProductUnit.choices, default=ProductUnit.PIECE
    )
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    discount_percent = models.DecimalField(_("discount (%)"), default=Decimal("0"), **PERCENT)
    discount_amount = models.DecimalField(_("discount"), default=Decimal("0"), **MONEY)
    tax_rate = models.CharField(
        _("tax rate"), max_length=3, choices=TaxRate.choices, default=TaxRate.STANDARD
    )
    net_amount = models.DecimalField(_("net amount"), default=Decimal("0"), **MONEY)

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.position}. {self.description}"


class OpportunityLine(LineBase):
    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineBase.Meta):
        pass


class QuoteLine(LineBase):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineBase.Meta):
        indexes = [models.Index(fields=["quote", "position"], name="quoteline_quote_idx")]


class OrderStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CONFIRMED = "confirmed", _("Confirmed")
    DELIVERED = "delivered", _("Delivered")
    INVOICED = "invoiced", _("Invoiced")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", _("Cancelled")


class Order(CustomerRecord):
    """An order (Auftrag), usually from an accepted quote."""

    number = models.CharField(_("number"), max_length=40, unique=True)
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="orders"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    quote = models.OneToOneField(
        Quote,
        verbose_name=_("quote"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="order",
    )
    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="orders",
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    order_date = models.DateField(_("order date"), default=timezone.localdate)
    delivery_date = models.DateField(_("delivery date"), null=True, blank=True)
    erp_reference = models.CharField(_("ERP reference"), max_length=60, blank=True)
    discount_percent = models.DecimalField(_("discount (%)"), default=Decimal("0"), **PERCENT)
    discount_amount = models.DecimalField(_("discount"), default=Decimal("0"), **MONEY)
    net_total = models.DecimalField(_("net total"), default=Decimal("0"), **MONEY)
    tax_total = models.DecimalField(_("tax"), default=Decimal("0"), **MONEY)
    gross_total = models.DecimalField(_("gross total"), default=Decimal("0"), **MONEY)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [
            models.Index(fields=["owner", "-order_date"], name="order_owner_idx"),
            models.Index(fields=["team", "-order_date"], name="order_team_idx"),
            models.Index(fields=["account", "status"], name="order_account_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(LineBase):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")

    class Meta(LineBase.Meta):
        pass


class SalesTarget(models.Model):
    """A revenue target for a user or a team in a month."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    month = models.DateField(_("month"))  # the first day of the month
    amount = models.DecimalField(_("target"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        ordering = ["month"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False) ^ models.Q(team__isnull=False),
                name="target_user_xor_team",
            ),
            models.UniqueConstraint(fields=["user", "month"], name="target_user_month_unique"),
            models.UniqueConstraint(fields=["team", "month"], name="target_team_month_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user or self.team} {self.month:%Y-%m}: {self.amount} {self.currency}"
