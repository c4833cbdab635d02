"""The SQLite index of words per access token (:mod:`farley.core.search_keys`), and the
table where maintenance records what it did (``SystemState``: how the keys were built)."""

import django.utils.timezone
from django.db import migrations, models

TABLE = "core_searchkeys_fts"
# As farley.core.search_keys.CREATE_SQL was when this migration was written.
CREATE_SQL = (
    "CREATE VIRTUAL TABLE core_searchkeys_fts USING fts5(keys, content='', detail='none', "
    "tokenize='ascii')"
)
BATCH = 2000


def create_keys_index(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    # The keys as the module makes them: it removes a row's keys by making them again.
    from farley.core.search_keys import STATE, build_version, keys_of

    schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")
    schema_editor.execute(CREATE_SQL)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT rowid, body, access FROM core_search_fts ORDER BY rowid")
        while rows := cursor.fetchmany(BATCH):
            schema_editor.connection.cursor().executemany(
                f"INSERT INTO {TABLE}(rowid, keys) VALUES (%s, %s)",  # noqa: S608 (constant)
                [[rowid, keys_of(body, access)] for rowid, body, access in rows],
            )
    apps.get_model("core", "SystemState").objects.update_or_create(
        name=STATE, defaults={"value": build_version()}
    )


def drop_keys_index(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("core", "0020_notification_invitation_kinds")]

    operations = [
        migrations.CreateModel(
            name="SystemState",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=60, unique=True)),
                ("value", models.CharField(blank=True, max_length=200)),
                ("at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.RunPython(create_keys_index, drop_keys_index),
    ]
