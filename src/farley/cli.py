"""The ``farley`` command: serve, migrate, createuser, createtoken, demo-data, first-start."""

from __future__ import annotations

import argparse
import os
import secrets
import sys


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "farley.settings")
    import django

    django.setup()


def cmd_migrate(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from django.conf import settings
    from django.core.management import call_command
    from waitress import serve

    from farley.wsgi import application

    call_command("collectstatic", interactive=False, verbosity=0)
    host_ok = args.host in settings.ALLOWED_HOSTS or "*" in settings.ALLOWED_HOSTS
    if not host_ok:
        settings.ALLOWED_HOSTS.append(args.host)
    from farley import jobs
    from farley.core import search_keys

    search_keys.rebuild_if_stale()
    jobs.start_embedded()
    print(f"Farley is serving at http://{args.host}:{args.port}/ (Ctrl+C stops it)", flush=True)
    serve(application, host=args.host, port=args.port, threads=args.threads, ident="farley")
    return 0


def cmd_createuser(args: argparse.Namespace) -> int:
    from farley.core.errors import ValidationFailed
    from farley.core.services import user_create

    try:
        user = user_create(
            actor=None,
            email=args.email,
            password=args.password,
            role=args.role,
            full_name=args.name or "",
            team_names=[args.team] if args.team else [],
        )
    except ValidationFailed as exc:
        for field, messages in exc.fields.items():
            for message in messages:
                print(f"{field}: {message}", file=sys.stderr)
        return 2
    print(f"Created user {user.email} ({args.role}).")
    return 0


def cmd_apply_retention(args: argparse.Namespace) -> int:
    from farley.contacts.retention import run_automatic

    for name, count in run_automatic().items():
        print(f"{name}: {count} contacts")
    return 0


def cmd_reapply_erasures(args: argparse.Namespace) -> int:
    from django.db import connection

    from farley.contacts.privacy import erase, erased_contact_ids
    from farley.core.search_purge import compact

    ids = erased_contact_ids()
    for contact_id in ids:
        erase(actor=None, contact_id=contact_id)
    print(f"{len(ids)} erased contacts anonymised again.")
    if ids and connection.vendor == "sqlite":
        # The restored file still holds the old text in index segments and free pages.
        print(f"Search indexes compacted ({compact()} merge steps).")
        if not connection.in_atomic_block:
            with connection.cursor() as cursor:
                cursor.execute("VACUUM")
            print("Database file rewritten (VACUUM): no free page keeps old text.")
    return 0


def cmd_purge_search(args: argparse.Namespace) -> int:
    from farley.core.search_purge import run_due

    steps = run_due()
    print(f"Search indexes compacted ({steps} merge steps)." if steps else "Nothing to purge.")
    return 0


def cmd_createtoken(args: argparse.Namespace) -> int:
    from farley.core.models import User
    from farley.core.services import token_create

    user = User.objects.filter(email__iexact=args.email, is_active=True).first()
    if user is None:
        print(f"No active user with email {args.email}.", file=sys.stderr)
        return 2
    _token, key = token_create(user=user, name=args.name or "command line")
    print(key)
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    from farley.demo import generate

    summary = generate(contacts=args.contacts, seed=args.seed)
    print(summary)
    return 0


def cmd_first_start(args: argparse.Namespace) -> int:
    """On an empty database: create an administrator (random password) and the demo data."""
    from django.conf import settings

    from farley.core.models import User
    from farley.core.services import user_create

    if User.objects.exists():
        return 0
    password = secrets.token_urlsafe(12)
    email = "admin@farley.local"
    user_create(
        actor=None,
        email=email,
        password=password,
        role="administrator",
        full_name="Farley Administrator",
        team_names=["Vertrieb Nord"],
    )
    login_file = settings.VAR_DIR / "first-login.txt"
    login_file.write_text(
        f"Farley administrator login\nURL: http://127.0.0.1:8000/\nemail: {email}\npassword: {password}\n"
    )
    login_file.chmod(0o600)
    if not args.no_demo:
        from farley.demo import generate

        print(generate(contacts=args.contacts, seed=42))
    print("=" * 60)
    print("First start: an administrator was created.")
    print(f"  email:    {email}")
    print(f"  password: {password}")
    print(f"  (also in {login_file}, readable only by you)")
    print("=" * 60, flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="farley", description="Farley CRM")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the web app and the API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--threads", type=int, default=8)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="create or update the database tables")
    p.add_argument("--verbose", action="store_true")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("createuser", help="create a user")
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument(
        "--role", required=True, help="administrator, manager, sales, service, marketing, read_only"
    )
    p.add_argument("--team")
    p.add_argument("--name")
    p.set_defaults(func=cmd_createuser)

    p = sub.add_parser("createtoken", help="print a new API token for a user")
    p.add_argument("email")
    p.add_argument("--name")
    p.set_defaults(func=cmd_createtoken)

    p = sub.add_parser("demo-data", help="fill the database with realistic demo data")
    p.add_argument("--contacts", type=int, default=300)
    p.add_argument("--seed", type=int, default=42)
    p.set_defaults(func=cmd_demo_data)

    p = sub.add_parser(
        "first-start", help="create the first administrator and demo data if the database is empty"
    )
    p.add_argument("--contacts", type=int, default=300)
    p.add_argument("--no-demo", action="store_true")
    p.set_defaults(func=cmd_first_start)

    p = sub.add_parser(
        "reapply-erasures",
        help="erase again the contacts erased before (run it after restoring a backup)",
    )
    p.set_defaults(func=cmd_reapply_erasures)

    p = sub.add_parser("apply-retention", help="apply the automatic retention policies (daily)")
    p.set_defaults(func=cmd_apply_retention)

    p = sub.add_parser(
        "purge-search",
        help="compact the search indexes now if anyone was erased since they last were "
        "(the server does it every ten minutes)",
    )
    p.set_defaults(func=cmd_purge_search)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _setup()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
