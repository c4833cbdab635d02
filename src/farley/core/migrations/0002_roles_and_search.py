from django.db import migrations

ROLES = [
    ("administrator", "Administrator", "all", True, True),
    ("manager", "Manager", "all", True, False),
    ("sales", "Sales", "team", True, False),
    ("service", "Service", "team", True, False),
    ("marketing", "Marketing", "all", True, False),
    ("read_only", "Read-only", "all", False, False),
]


def create_roles(apps, schema_editor):
    Role = apps.get_model("core", "Role")
    for key, name, visibility, can_write, is_admin in ROLES:
        Role.objects.update_or_create(
            key=key,
            defaults={"name": name, "visibility": visibility, "can_write": can_write, "is_administrator": is_admin},
        )


def create_search_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        schema_editor.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS core_search_fts USING fts5(body, tokenize='trigram')"
        )
    elif vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS core_searchdocument_body_trgm "
            "ON core_searchdocument USING gin (body gin_trgm_ops)"
        )
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS core_searchdocument_body_fts "
            "ON core_searchdocument USING gin (to_tsvector('simple', body))"
        )


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS core_search_fts")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(create_search_index, drop_search_index),
    ]
