from django.db import migrations

TYPES = [
    ("reports_to", "reports to", "berichtet an", "has report", "hat Mitarbeiter"),
    ("partner_of", "partner of", "Partner von", "partner of", "Partner von"),
    ("supplier_of", "supplier of", "Lieferant von", "customer of", "Kunde von"),
    ("competitor_of", "competitor of", "Wettbewerber von", "competitor of", "Wettbewerber von"),
    ("referred_by", "referred by", "empfohlen von", "referred", "hat empfohlen"),
]


def create_types(apps, schema_editor):
    RelationshipType = apps.get_model("contacts", "RelationshipType")
    for key, label, label_de, inverse, inverse_de in TYPES:
        RelationshipType.objects.update_or_create(
            key=key,
            defaults={"label": label, "label_de": label_de, "inverse_label": inverse,
                      "inverse_label_de": inverse_de, "is_built_in": True},
        )


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_initial")]

    operations = [migrations.RunPython(create_types, migrations.RunPython.noop)]
