"""Services of pipelines, stages, loss reasons and opportunities: every rule and every bad
input, and that a refused write changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from farley.core import visibility
from farley.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from farley.core.models import ChangeRecord, RecordShare
from farley.sales.models import (
    LossReason,
    Opportunity,
    OpportunityContact,
    Pipeline,
    Product,
    Stage,
    StageChange,
)
from farley.sales.selectors import opportunities as selectors
from farley.sales.services import opportunities as services
from tests.factories import make_account, make_contact, make_opportunity

pytestmark = pytest.mark.django_db

STAGES = [
    {"name": "Lead", "probability": 10, "kind": "open"},
    {"name": "Offer", "probability": 50, "kind": "open"},
    {"name": "Won", "kind": "won"},
    {"name": "Lost", "kind": "lost"},
]


def sales_pipeline() -> Pipeline:
    return Pipeline.objects.get(name="Sales")


def stage(name: str, pipeline: Pipeline | None = None) -> Stage:
    return (pipeline or sales_pipeline()).stages.get(name=name)


def reason(name: str = "Price") -> LossReason:
    return LossReason.objects.get(name=name)


def errors(exc_info) -> dict[str, list[str]]:
    return exc_info.value.fields


# --- pipelines and stages --------------------------------------------------------------------


def test_the_migration_makes_a_default_pipeline_and_loss_reasons():
    pipeline = sales_pipeline()
    assert pipeline.is_default
    assert [s.kind for s in pipeline.stages.order_by("order")] == ["open"] * 4 + ["won", "lost"]
    assert LossReason.objects.filter(active=True).count() == 6


def test_create_a_pipeline_with_stages(admin):
    pipeline = services.pipeline_create(
        actor=admin, data={"name": "Partner", "stale_after_days": 14, "stages": STAGES}
    )
    stages = list(pipeline.stages.order_by("order"))
    assert [s.name for s in stages] == ["Lead", "Offer", "Won", "Lost"]
    assert [s.probability for s in stages] == [10, 50, 100, 0]
    assert not pipeline.is_default  # the migration's pipeline stays the default
    assert ChangeRecord.objects.filter(entity="pipeline", object_id=pipeline.pk).count() == 1


@pytest.mark.parametrize(
    ("stages", "message"),
    [
        ([s for s in STAGES if s["kind"] != "won"], "exactly one won stage"),
        ([*STAGES, {"name": "Won too", "kind": "won"}], "exactly one won stage"),
        ([s for s in STAGES if s["kind"] != "lost"], "at least one lost stage"),
        ([s for s in STAGES if s["kind"] != "open"], "at least one open stage"),
        ([], "needs stages"),
    ],
)
def test_a_pipeline_needs_open_won_and_lost_stages(admin, stages, message):
    with pytest.raises(ValidationFailed) as exc:
        services.pipeline_create(actor=admin, data={"name": "Bad", "stages": stages})
    assert any(message in m for m in errors(exc)["stages"])
    assert not Pipeline.objects.filter(name="Bad").exists()


def test_stage_probability_name_and_kind_are_validated(admin):
    bad = [
        {"name": "Lead", "probability": 101, "kind": "open"},
        {"name": "lead", "kind": "open"},
        {"name": "", "kind": "won"},
        {"name": "Lost", "kind": "maybe"},
        {"name": "Lost 2", "kind": "lost", "colour": "red"},
    ]
    with pytest.raises(ValidationFailed) as exc:
        services.pipeline_create(actor=admin, data={"name": "Bad", "stages": bad})
    fields = errors(exc)
    assert "stages.0.probability" in fields
    assert "stages.1.name" in fields  # the same name twice (ignoring case)
    assert "stages.2.name" in fields
    assert "stages.3.kind" in fields
    assert "stages.4.colour" in fields


def test_only_administrators_of_deals_configure_pipelines(sales1, manager):
    for user in (sales1, manager):
        with pytest.raises(Forbidden):
            services.pipeline_create(actor=user, data={"name": "X", "stages": STAGES})
        with pytest.raises(Forbidden):
            services.loss_reason_create(actor=user, data={"name": "X"})


def test_one_default_pipeline_that_is_active(admin):
    other = services.pipeline_create(
        actor=admin, data={"name": "Partner", "stages": STAGES, "is_default": True}
    )
    assert Pipeline.objects.get(is_default=True) == other
    with pytest.raises(ValidationFailed) as exc:
        services.pipeline_update(actor=admin, pipeline_id=other.pk, data={"active": False})
    assert "active" in errors(exc)
    with pytest.raises(ValidationFailed) as exc:
        services.pipeline_update(actor=admin, pipeline_id=other.pk, data={"is_default": False})
    assert "is_default" in errors(exc)
    services.pipeline_update(
        actor=admin, pipeline_id=sales_pipeline().pk, data={"is_default": True}
    )
    assert Pipeline.objects.get(is_default=True) == sales_pipeline()


def test_update_stages_renames_reorders_adds_and_removes(admin):
    pipeline = services.pipeline_create(actor=admin, data={"name": "P", "stages": STAGES})
    lead, offer, won, lost = pipeline.stages.order_by("order")
    services.pipeline_update(
        actor=admin,
        pipeline_id=pipeline.pk,
        data={
            "stages": [
                {"id": offer.pk, "name": "Lead"},  # the two names swap places
                {"id": lead.pk, "name": "Offer", "name_de": "Angebot"},
                {"name": "Contract", "probability": 80},
                {"id": won.pk},
                {"id": lost.pk},
            ]
        },
    )
    names = list(pipeline.stages.order_by("order").values_list("name", "name_de"))
    assert names == [("Lead", ""), ("Offer", "Angebot"), ("Contract", ""), ("Won", ""),
                     ("Lost", "")]  # fmt: skip
    services.pipeline_update(
        actor=admin,
        pipeline_id=pipeline.pk,
        data={"stages": [{"id": offer.pk}, {"id": won.pk}, {"id": lost.pk}]},
    )
    assert pipeline.stages.count() == 3


def test_a_stage_in_use_is_not_removed_and_keeps_its_kind(admin):
    deal = make_opportunity(admin, stage_id=stage("Proposal").pk)
    items = [{"id": s.pk} for s in sales_pipeline().stages.exclude(name="Proposal")]
    with pytest.raises(ValidationFailed) as exc:
        services.pipeline_update(actor=admin, pipeline_id=deal.pipeline_id, data={"stages": items})
    assert "Proposal" in errors(exc)["stages"][0]
    with pytest.raises(ValidationFailed) as exc:
        services.stage_update(
            actor=admin, pipeline_id=deal.pipeline_id, stage_id=deal.stage_id, data={"kind": "lost"}
        )
    assert "kind" in errors(exc)
    with pytest.raises(ValidationFailed):
        services.stage_delete(actor=admin, pipeline_id=deal.pipeline_id, stage_id=deal.stage_id)
    assert Stage.objects.filter(pk=deal.stage_id, kind="open").exists()


def test_stage_add_change_reorder_and_delete(admin):
    pipeline = sales_pipeline()
    added = services.stage_add(
        actor=admin, pipeline_id=pipeline.pk, data={"name": "Contract", "probability": 90}
    )
    kinds = list(pipeline.stages.order_by("order").values_list("name", flat=True))
    assert kinds.index("Contract") == 4  # after the open stages, before won and lost
    services.stage_update(
        actor=admin, pipeline_id=pipeline.pk, stage_id=added.pk, data={"name_de": "Vertrag"}
    )
    assert Stage.objects.get(pk=added.pk).name_de == "Vertrag"
    ids = list(pipeline.stages.order_by("-order").values_list("pk", flat=True))
    services.stages_reorder(actor=admin, pipeline_id=pipeline.pk, stage_ids=ids)
    assert list(pipeline.stages.order_by("order").values_list("pk", flat=True)) == ids
    with pytest.raises(ValidationFailed):
        services.stages_reorder(actor=admin, pipeline_id=pipeline.pk, stage_ids=ids[:-1])
    services.stage_delete(actor=admin, pipeline_id=pipeline.pk, stage_id=added.pk)
    assert not Stage.objects.filter(pk=added.pk).exists()
    won = stage("Won")
    with pytest.raises(ValidationFailed) as exc:
        services.stage_delete(actor=admin, pipeline_id=pipeline.pk, stage_id=won.pk)
    assert "exactly one won stage" in errors(exc)["stages"][0]
    with pytest.raises(NotFound):
        services.stage_update(actor=admin, pipeline_id=pipeline.pk, stage_id=10**9, data={})


def test_a_new_stage_probability_applies_to_deals_that_follow_it(admin):
    follows = make_opportunity(admin, stage_id=stage("Proposal").pk)
    own = make_opportunity(admin, stage_id=stage("Proposal").pk, probability=70)
    services.stage_update(
        actor=admin, pipeline_id=follows.pipeline_id, stage_id=follows.stage_id,
        data={"probability": 40},
    )  # fmt: skip
    follows.refresh_from_db()
    own.refresh_from_db()
    assert (follows.probability, own.probability) == (40, 70)


def test_a_pipeline_is_deleted_only_when_no_deal_uses_it(admin):
    used = services.pipeline_create(actor=admin, data={"name": "Used", "stages": STAGES})
    unused = services.pipeline_create(actor=admin, data={"name": "Unused", "stages": STAGES})
    make_opportunity(admin, pipeline_id=used.pk)
    with pytest.raises(ValidationFailed):
        services.pipeline_delete(actor=admin, pipeline_id=used.pk)
    with pytest.raises(ValidationFailed):
        services.pipeline_delete(actor=admin, pipeline_id=sales_pipeline().pk)  # the default
    services.pipeline_delete(actor=admin, pipeline_id=unused.pk)
    assert set(Pipeline.objects.values_list("name", flat=True)) == {"Sales", "Used"}


def test_loss_reasons_are_added_renamed_and_deactivated(admin):
    created = services.loss_reason_create(actor=admin, data={"name": "Lieferzeit"})
    services.loss_reason_update(
        actor=admin, reason_id=created.pk, data={"name": "Delivery time", "name_de": "Lieferzeit"}
    )
    with pytest.raises(ValidationFailed) as exc:
        services.loss_reason_create(actor=admin, data={"name": "price"})
    assert "name" in errors(exc)
    services.loss_reason_update(actor=admin, reason_id=created.pk, data={"active": False})
    assert [r.name for r in selectors.loss_reasons(active_only=True)].count("Delivery time") == 0


# --- creating deals --------------------------------------------------------------------------


def test_create_a_deal_in_the_default_pipeline(sales1):
    account = make_account(sales1, name="Müller GmbH")
    deal = make_opportunity(sales1, account=account, name="Fräsen", amount="12500,50")
    assert deal.pipeline == sales_pipeline()
    assert deal.stage.name == "Qualification"
    assert deal.probability == 10 and deal.probability_override is None
    assert deal.amount == Decimal("12500.50") and deal.currency == "EUR"
    assert deal.owner == sales1 and deal.team == sales1.teams.first()
    assert deal.closed_at is None and deal.last_activity_at is not None
    change = StageChange.objects.get(opportunity=deal)
    assert (change.from_stage, change.to_stage, change.changed_by) == (None, deal.stage, sales1)
    assert ChangeRecord.objects.get(entity="opportunity", object_id=deal.pk).action == "create"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"currency": "EUX"}, "currency"),
        ({"currency": "euro"}, "currency"),
        ({"probability": 101}, "probability"),
        ({"probability": -5}, "probability"),
        ({"expected_close_date": "31.02.2026"}, "expected_close_date"),
        ({"name": ""}, "name"),
        ({"colour": "red"}, "colour"),
        ({"loss_reason_id": 1}, "loss_reason_id"),  # not a lost stage
    ],
)
def test_bad_input_is_refused_at_its_field_and_nothing_is_written(sales1, data, field):
    account = make_account(sales1)
    with pytest.raises(ValidationFailed) as exc:
        make_opportunity(sales1, account=account, **data)
    assert field in errors(exc)
    assert Opportunity.objects.count() == 0 and StageChange.objects.count() == 0


def test_an_account_the_user_cannot_see_is_refused(sales1, sales2):
    foreign = make_account(sales2, name="Fremd AG")
    with pytest.raises(ValidationFailed) as exc:
        make_opportunity(sales1, account_id=foreign.pk)
    assert errors(exc)["account_id"] == ["Select an account you can see."]
    assert not Opportunity.objects.exists()


def test_a_stage_from_another_pipeline_is_refused(admin):
    other = services.pipeline_create(actor=admin, data={"name": "Partner", "stages": STAGES})
    with pytest.raises(ValidationFailed) as exc:
        make_opportunity(admin, stage_id=other.stages.get(name="Offer").pk)
    assert "a stage from another pipeline" in errors(exc)["stage_id"][0]
    deal = make_opportunity(admin, pipeline_id=other.pk, stage_id=other.stages.get(name="Offer").pk)
    assert deal.probability == 50


def test_a_deal_created_lost_needs_a_reason_and_is_closed(sales1):
    with pytest.raises(ValidationFailed) as exc:
        make_opportunity(sales1, stage_id=stage("Lost").pk)
    assert "loss_reason_id" in errors(exc)
    deal = make_opportunity(
        sales1, stage_id=stage("Lost").pk, loss_reason_id=reason().pk, loss_note="zu teuer"
    )
    assert deal.closed_at is not None and deal.probability == 0 and deal.loss_note == "zu teuer"


def test_an_inactive_pipeline_takes_no_new_deals(admin):
    other = services.pipeline_create(
        actor=admin, data={"name": "Old", "stages": STAGES, "active": False}
    )
    with pytest.raises(ValidationFailed) as exc:
        make_opportunity(admin, pipeline_id=other.pk)
    assert "pipeline_id" in errors(exc)


# --- moving deals ----------------------------------------------------------------------------


def move(user, deal, stage_obj, **data):
    data["stage_id"] = stage_obj.pk
    return services.opportunity_move(
        actor=user, opportunity_id=deal.pk, data=data, version=data.pop("version", deal.version)
    )


def test_moving_to_won_closes_and_back_to_open_reopens(sales1):
    deal = make_opportunity(sales1, amount="1000")
    deal = move(sales1, deal, stage("Won"))
    assert deal.stage.kind == "won" and deal.closed_at is not None and deal.probability == 100
    assert deal.version == 2
    deal = move(sales1, deal, stage("Negotiation"))
    assert deal.closed_at is None and deal.probability == 75
    changes = list(StageChange.objects.filter(opportunity=deal).order_by("pk"))
    assert [(c.from_stage and c.from_stage.name, c.to_stage.name) for c in changes] == [
        (None, "Qualification"), ("Qualification", "Won"), ("Won", "Negotiation"),
    ]  # fmt: skip
    assert all(c.changed_by == sales1 and c.amount == Decimal("1000") for c in changes)
    history = ChangeRecord.objects.filter(entity="opportunity", object_id=deal.pk, action="update")
    assert [h.changes["stage"] for h in history.order_by("pk")] == [
        ["Qualification", "Won"], ["Won", "Negotiation"],
    ]  # fmt: skip


def test_moving_to_lost_needs_a_reason_and_keeps_note_and_competitor(sales1):
    deal = make_opportunity(sales1)
    with pytest.raises(ValidationFailed) as exc:
        move(sales1, deal, stage("Lost"))
    assert errors(exc)["loss_reason_id"] == ["A lost deal needs a loss reason."]
    deal.refresh_from_db()
    assert deal.stage.name == "Qualification" and deal.version == 1
    deal = move(
        sales1, deal, stage("Lost"), loss_reason_id=reason("Competitor").pk,
        loss_note="Preis 10 % höher", competitor="Wettbewerb AG",
    )  # fmt: skip
    assert deal.loss_reason.name == "Competitor" and deal.competitor == "Wettbewerb AG"
    assert deal.closed_at is not None and deal.probability == 0
    deal = move(sales1, deal, stage("Proposal"))
    assert deal.loss_reason is None and deal.loss_note == "" and deal.closed_at is None
    assert deal.competitor == "Wettbewerb AG"


def test_an_inactive_loss_reason_is_refused(admin):
    services.loss_reason_update(actor=admin, reason_id=reason("Timing").pk, data={"active": False})
    deal = make_opportunity(admin)
    with pytest.raises(ValidationFailed) as exc:
        move(admin, deal, stage("Lost"), loss_reason_id=reason("Timing").pk)
    assert "loss_reason_id" in errors(exc)


def test_moving_to_a_stage_of_another_pipeline_is_refused(admin):
    other = services.pipeline_create(actor=admin, data={"name": "Partner", "stages": STAGES})
    deal = make_opportunity(admin)
    with pytest.raises(ValidationFailed) as exc:
        move(admin, deal, other.stages.get(name="Won"))
    assert "a stage from another pipeline" in errors(exc)["stage_id"][0]
    deal.refresh_from_db()
    assert deal.stage.name == "Qualification" and StageChange.objects.count() == 1


def test_a_stale_version_is_a_conflict_and_changes_nothing(sales1):
    deal = make_opportunity(sales1)
    move(sales1, deal, stage("Proposal"))  # someone else moved it (version 2 now)
    changes, history = StageChange.objects.count(), ChangeRecord.objects.count()
    with pytest.raises(Conflict) as exc:
        move(sales1, deal, stage("Won"), version=1)
    assert exc.value.current_version == 2
    with pytest.raises(Conflict):
        services.opportunity_update(
            actor=sales1, opportunity_id=deal.pk, data={"name": "Neu"}, version=1
        )
    deal.refresh_from_db()
    assert (deal.stage.name, deal.name, deal.version) == ("Proposal", deal.name, 2)
    assert (StageChange.objects.count(), ChangeRecord.objects.count()) == (changes, history)


def test_probability_follows_the_stage_unless_overridden(sales1):
    deal = make_opportunity(sales1, probability=33)
    assert deal.probability == 33
    deal = move(sales1, deal, stage("Proposal"))
    assert deal.probability == 33
    deal = move(sales1, deal, stage("Won"))
    assert deal.probability == 100  # a closed stage decides
    deal = services.opportunity_update(
        actor=sales1, opportunity_id=deal.pk, data={"stage_id": stage("Proposal").pk,
                                                    "probability": None},
    )  # fmt: skip
    assert deal.probability == 50 and deal.probability_override is None


def test_patching_the_stage_follows_the_move_rules(sales1, admin):
    deal = make_opportunity(sales1)
    with pytest.raises(ValidationFailed) as exc:
        services.opportunity_update(
            actor=sales1, opportunity_id=deal.pk, data={"stage_id": stage("Lost").pk}
        )
    assert "loss_reason_id" in errors(exc)
    deal = services.opportunity_update(
        actor=sales1, opportunity_id=deal.pk,
        data={"stage_id": stage("Lost").pk, "loss_reason_id": reason().pk},
    )  # fmt: skip
    assert deal.closed_at is not None
    assert StageChange.objects.filter(opportunity=deal).count() == 2


def test_changing_the_pipeline_goes_to_its_first_open_stage(admin):
    other = services.pipeline_create(actor=admin, data={"name": "Partner", "stages": STAGES})
    deal = make_opportunity(admin, stage_id=stage("Proposal").pk)
    deal = services.opportunity_update(
        actor=admin, opportunity_id=deal.pk, data={"pipeline_id": other.pk}
    )
    assert (deal.pipeline, deal.stage.name, deal.probability) == (other, "Lead", 10)
    last = StageChange.objects.filter(opportunity=deal).latest("pk")
    assert (last.from_stage.name, last.to_stage.name) == ("Proposal", "Lead")


# --- line items and contact roles ------------------------------------------------------------


def test_line_items_make_the_amount(sales1):
    product = Product.objects.create(sku="SVC-1", name="Beratung", list_price=Decimal("120.00"),
                                     unit="hour", tax_rate="19")  # fmt: skip
    deal = make_opportunity(
        sales1,
        lines=[
            {"product_id": product.pk, "quantity": "10"},
            {
                "description": "Lizenz",
                "quantity": 2,
                "unit_price": "999.99",
                "discount_percent": "10",
                "tax_rate": "7",
            },
        ],
    )
    lines = list(deal.lines.order_by("position"))
    assert [(line.description, line.unit, line.net_amount) for line in lines] == [
        ("Beratung", "hour", Decimal("1200.00")), ("Lizenz", "piece", Decimal("1799.98")),
    ]  # fmt: skip
    assert deal.amount == Decimal("2999.98")
    with pytest.raises(ValidationFailed) as exc:
        services.opportunity_update(actor=sales1, opportunity_id=deal.pk, data={"amount": "5"})
    assert "amount" in errors(exc)
    deal = services.opportunity_update(actor=sales1, opportunity_id=deal.pk, data={"lines": []})
    assert deal.amount == Decimal("2999.98") and not deal.lines.exists()  # keeps the last total


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"description": "x", "quantity": "-1", "unit_price": "1"}, "lines.0.quantity"),
        ({"description": "x", "quantity": "1", "unit_price": "-1"}, "lines.0.unit_price"),
        (
            {"description": "x", "unit_price": "1", "discount_percent": "101"},
            "lines.0.discount_percent",
        ),
        ({"description": "x", "unit_price": "1", "tax_rate": "16"}, "lines.0.tax_rate"),
        (
            {"description": "x", "unit_price": "1", "discount_amount": "2"},
            "lines.0.discount_amount",
        ),
        ({"unit_price": "1"}, "lines.0.description"),
        ({"description": "x", "product_id": 10**9}, "lines.0.product_id"),
    ],
)
def test_bad_lines_are_refused(sales1, line, field):
    with pytest.raises(ValidationFailed) as exc:
        make_opportunity(sales1, lines=[line])
    assert field in errors(exc)
    assert not Opportunity.objects.exists()


def test_a_product_in_another_currency_is_refused(sales1):
    product = Product.objects.create(sku="USD-1", name="US", list_price=1, currency="USD")
    with pytest.raises(ValidationFailed) as exc:
        make_opportunity(sales1, lines=[{"product_id": product.pk}])
    assert "lines.0.product_id" in errors(exc)


def test_contact_roles_only_for_contacts_the_user_sees(sales1, sales2):
    mine = make_contact(sales1, first_name="Jana", last_name="Jäger")
    foreign = make_contact(sales2, last_name="Fremd")
    with pytest.raises(ValidationFailed) as exc:
        make_opportunity(sales1, contacts=[{"contact_id": foreign.pk, "role": "influencer"}])
    assert "contacts.0.contact_id" in errors(exc)
    with pytest.raises(ValidationFailed) as exc:
        make_opportunity(sales1, contacts=[{"contact_id": mine.pk, "role": "boss"}])
    assert "contacts.0.role" in errors(exc)
    deal = make_opportunity(sales1, contacts=[{"contact_id": mine.pk, "role": "decision_maker"}])
    assert list(deal.contact_roles.values_list("contact__last_name", "role")) == [
        ("Jäger", "decision_maker")
    ]


def test_roles_of_contacts_the_editor_cannot_see_are_kept(sales1, manager, sales2):
    hidden = make_contact(sales2, last_name="Verborgen")
    deal = make_opportunity(manager, contacts=[{"contact_id": hidden.pk, "role": "user"}])
    RecordShare.objects.create(entity="opportunity", object_id=deal.pk, user=sales1,
                               can_edit=True)  # fmt: skip
    visibility.forget(sales1)
    mine = make_contact(sales1, last_name="Meins")
    services.opportunity_update(
        actor=sales1, opportunity_id=deal.pk,
        data={"contacts": [{"contact_id": mine.pk, "role": "champion"}]},
    )  # fmt: skip
    assert set(OpportunityContact.objects.values_list("contact__last_name", flat=True)) == {
        "Verborgen", "Meins",
    }  # fmt: skip


# --- access, delete, restore -----------------------------------------------------------------


def test_another_team_cannot_change_or_delete_a_deal(sales1, sales2):
    deal = make_opportunity(sales1)
    with pytest.raises(NotFound):
        services.opportunity_update(actor=sales2, opportunity_id=deal.pk, data={"name": "X"})
    with pytest.raises(NotFound):
        move(sales2, deal, stage("Won"))
    with pytest.raises(NotFound):
        services.opportunity_delete(actor=sales2, opportunity_id=deal.pk)


def test_a_read_only_share_does_not_allow_changes(sales1, sales2):
    deal = make_opportunity(sales1)
    RecordShare.objects.create(entity="opportunity", object_id=deal.pk, user=sales2)
    with pytest.raises(Forbidden):
        move(sales2, deal, stage("Won"))


def test_a_read_only_user_cannot_create(reader, sales1):
    account = make_account(sales1)
    with pytest.raises(Forbidden):
        make_opportunity(reader, account_id=account.pk)


def test_delete_and_restore(sales1):
    deal = make_opportunity(sales1, name="Papierkorb")
    services.opportunity_delete(actor=sales1, opportunity_id=deal.pk)
    assert not selectors.opportunities_visible_to(sales1).filter(pk=deal.pk).exists()
    services.opportunity_restore(actor=sales1, opportunity_id=deal.pk)
    assert selectors.opportunities_visible_to(sales1).filter(pk=deal.pk).exists()
    actions = ChangeRecord.objects.filter(entity="opportunity", object_id=deal.pk)
    assert sorted(actions.values_list("action", flat=True)) == ["create", "delete", "restore"]
    with pytest.raises(NotFound):
        services.opportunity_restore(actor=sales1, opportunity_id=deal.pk)


# --- stale deals -----------------------------------------------------------------------------


def test_stale_deals_no_activity_or_close_date_passed(sales1):
    fresh = make_opportunity(sales1, name="Frisch")
    quiet = make_opportunity(sales1, name="Ruhig")
    overdue = make_opportunity(
        sales1, name="Überfällig", expected_close_date=timezone.localdate() - dt.timedelta(days=1)
    )
    closed = make_opportunity(sales1, name="Zu", stage_id=stage("Won").pk)
    long_ago = timezone.now() - dt.timedelta(days=31)
    Opportunity.objects.filter(pk__in=[quiet.pk, closed.pk]).update(last_activity_at=long_ago)
    page = selectors.list_page(sales1, {"stale": "true"})
    assert {d.name for d in page.items} == {"Ruhig", "Überfällig"}
    page = selectors.list_page(sales1, {"stale": "false"})
    assert {d.name for d in page.items} == {"Frisch", "Zu"}
    items = selectors.mark_stale(list(Opportunity.objects.order_by("pk")))
    stale = {d.name: d.stale for d in items}
    assert stale["Ruhig"] == ["No activity for 31 days"]
    assert stale["Überfällig"] == ["Close date has passed"]
    assert stale["Frisch"] == stale["Zu"] == []
    assert fresh and overdue
