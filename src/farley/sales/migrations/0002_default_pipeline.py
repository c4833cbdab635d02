"""A default sales pipeline with typical stages and probabilities, and common loss reasons
(administrators change them under Settings)."""

from django.db import migrations

STAGES = [
    # name, German name, probability, kind
    ("Qualification", "Qualifizierung", 10, "open"),
    ("Needs analysis", "Bedarfsanalyse", 25, "open"),
    ("Proposal", "Angebot", 50, "open"),
    ("Negotiation", "Verhandlung", 75, "open"),
    ("Won", "Gewonnen", 100, "won"),
    ("Lost", "Verloren", 0, "lost"),
]
LOSS_REASONS = [
    ("Price", "Preis"),
    ("Competitor", "Wettbewerber"),
    ("No budget", "Kein Budget"),
    ("No decision", "Keine Entscheidung"),
    ("Product fit", "Produkt passt nicht"),
    ("Timing", "Zeitpunkt"),
]


def create_defaults(apps, schema_editor):
    Pipeline = apps.get_model("sales", "Pipeline")
    Stage = apps.get_model("sales", "Stage")
    LossReason = apps.get_model("sales", "LossReason")
    if not Pipeline.objects.exists():
        pipeline = Pipeline.objects.create(name="Sales", order=10, is_default=True)
        for order, (name, name_de, probability, kind) in enumerate(STAGES, start=1):
            Stage.objects.create(
                pipeline=pipeline, name=name, name_de=name_de, order=order * 10,
                probability=probability, kind=kind,
            )  # fmt: skip
    for order, (name, name_de) in enumerate(LOSS_REASONS, start=1):
        LossReason.objects.get_or_create(name=name, defaults={"name_de": name_de, "order": order * 10})


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_sales")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
