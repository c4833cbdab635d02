"""The SQLite search index gets an ``access`` column (:mod:`farley.core.search_access`)."""

from django.db import migrations

BATCH = 2000


def add_access_column(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    from farley.core.search_access import document_access

    SearchDocument = apps.get_model("core", "SearchDocument")
    RecordShare = apps.get_model("core", "RecordShare")
    shares: dict[tuple[str, int], list[tuple[int | None, int | None]]] = {}
    for entity, object_id, user_id, team_id in RecordShare.objects.values_list(
        "entity", "object_id", "user_id", "team_id"
    ).iterator(chunk_size=BATCH):
        shares.setdefault((entity, object_id), []).append((user_id, team_id))
    schema_editor.execute("DROP TABLE IF EXISTS core_search_fts")
    schema_editor.execute(
        "CREATE VIRTUAL TABLE core_search_fts USING fts5(body, access, tokenize='trigram')"
    )
    rows = []
    documents = SearchDocument.objects.order_by("pk").values_list(
        "pk", "entity", "object_id", "owner_id", "team_id", "body"
    )
    with schema_editor.connection.cursor() as cursor:
        for pk, entity, object_id, owner_id, team_id, body in documents.iterator(chunk_size=BATCH):
            access = document_access(owner_id, team_id, shares.get((entity, object_id), []))
            rows.append([pk, body, access])
            if len(rows) >= BATCH:
                cursor.executemany(
                    "INSERT INTO core_search_fts(rowid, body, access) VALUES (%s, %s, %s)", rows
                )
                rows = []
        if rows:
            cursor.executemany(
                "INSERT INTO core_search_fts(rowid, body, access) VALUES (%s, %s, %s)", rows
            )


def drop_access_column(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    schema_editor.execute("DROP TABLE IF EXISTS core_search_fts")
    schema_editor.execute("CREATE VIRTUAL TABLE core_search_fts USING fts5(body, tokenize='trigram')")
    schema_editor.execute(
        "INSERT INTO core_search_fts(rowid, body) SELECT id, body FROM core_searchdocument"
    )


class Migration(migrations.Migration):
    dependencies = [("core", "0015_retention_policies")]

    operations = [migrations.RunPython(add_access_column, drop_access_column)]
