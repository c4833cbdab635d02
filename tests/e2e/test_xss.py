"""The attack suite, part 2: stored XSS payloads in every text field of every registered
entity never run in the browser (Chromium) and are shown as text: on the list page, the 360
page, the edit form, in the global search dropdown and in the history.

The fields are generated, not listed: for each entity of ``farley.core.entities`` the test
walks the API's input schema of its collection (``Entity.api_path``; the same services are
behind it) and puts a payload into every string it accepts, nested ones included (emails,
addresses, account links, tags), and into a custom field of every type. The same happens for
every collection whose input names a record (timeline entries, with an HTML body too,
relationships, files with a hostile file name, shares, and whatever comes later), and for the
team, relationship type and custom-field labels and choices that pages show. Each field gets
the first payload of ``CANDIDATES`` that the validators accept; a value they refuse (an
``<img>`` tag as a phone number, ``javascript:`` as a website) must be refused with an error
on that very field, and the field then tries the next one. An entity registered later is
attacked the same way without a change here.

The browser runs with the Content-Security-Policy switched off, so that the test checks the
escaping itself (the CSP would stop most payloads anyway): a payload that ran sets
``window.__xss`` or opens a dialog, and one that was inserted as markup leaves an element or
an attribute behind (``on*`` handlers, a ``javascript:`` link, a script without ``src``).
One page load per entity and page kind: all payloads are in one record.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from farley.api import api as ninja_api
from farley.core import entities
from farley.core.models import FieldType
from farley.core.services import token_create

MARK = "Zebraxss"
# A value with every kind of payload, short enough for a name (100 characters).
ALL = f'{MARK}<script>__xss=1</script>"><img src=x onerror=__xss=2><svg onload=__xss=3>'
PAYLOADS = {
    "script": "<script>window.__xss='script'</script>",
    "img": '"><img src=x onerror="window.__xss=\'img\'">',
    "svg": "<svg onload=\"window.__xss='svg';alert('svg')\"></svg>",
    "short": "<svg onload=__xss=4>",  # fits 20 characters
}
JAVASCRIPT_URLS = [
    "javascript:window.__xss='javascript'",
    "JaVaScRiPt:__xss=5",
    "javascript://x.example/%0A__xss=6",
]
# Values that pass a validator and still try to break out of an attribute.
VALID_BUT_HOSTILE = {
    "url": 'https://x.example/?q="><svg/onload=__xss=7>',
    "email": "x'onclick='__xss=8'@example.com",
}
# For fields that take HTML (sanitised on input and output).
RICH_TEXT = (
    f'<p>{ALL}</p><a href="javascript:__xss=9">a</a><a href=" java&#09;script:__xss=10">b</a>'
    '<a href="data:text/html,<script>__xss=11</script>">c</a><iframe src="javascript:__xss=12">'
    '</iframe><div style="background:url(javascript:__xss=13)">d</div><form action="javascript:'
    '__xss=14"><button>e</button></form><math><mtext><table><mglyph><style><img src=x '
    "onerror=__xss=15></style></mglyph></table></mtext></math>"
)
CANDIDATES: list[tuple[str, str]] = [
    ("all", ALL),
    *PAYLOADS.items(),
    *((f"javascript-{i}", url) for i, url in enumerate(JAVASCRIPT_URLS)),
    *VALID_BUT_HOSTILE.items(),
]
assert len(ALL) <= 100


# --- storing the payloads -------------------------------------------------------------------


@dataclass
class Leaf:
    """One value of a request body: a string that tries the candidates in turn, or a fixed
    value (a reference to another record, a key)."""

    path: str  # "emails.0.address"; a list of strings (tags) is one leaf
    item: str | None  # "emails.0" inside a list of objects: refused for good drops the item
    required: bool
    as_list: bool = False
    as_file: bool = False  # an upload: the payload is its file name
    fixed: Any = None
    tried: int = 0
    refused: list[str] = field(default_factory=list)
    dropped: bool = False  # every candidate refused (or its list item dropped)

    @property
    def value(self) -> Any:
        if self.fixed is not None:
            return self.fixed
        text = CANDIDATES[self.tried][1]
        if self.as_file:
            return SimpleUploadedFile(f"{text}.txt", f"{MARK}\n".encode(), "text/plain")
        return [text] if self.as_list else text

    @property
    def candidate(self) -> str:
        if self.fixed is not None:
            return "fixed"
        return CANDIDATES[self.tried][0] if self.tried < len(CANDIDATES) else "none"


class Api:
    def __init__(self, user):
        key = token_create(user=user, name="xss")[1]
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {key}", SERVER_NAME="127.0.0.1")
        self.spec = ninja_api.get_openapi_schema(path_prefix="/api/v1/")

    def input_schema(self, path: str) -> tuple[dict[str, Any], str]:
        """The schema of what ``POST path`` takes, and its media type."""
        content = self.spec["paths"][path]["post"].get("requestBody", {}).get("content", {})
        for media_type, body in content.items():
            return self.resolve(body["schema"]), media_type
        return {}, ""

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def types(self, schema: dict[str, Any]) -> set[str]:
        schema = self.resolve(schema)
        options = schema.get("anyOf", [schema])
        return {self.resolve(o).get("type", "") for o in options}


def _leaves(
    api: Api,
    schema: dict[str, Any],
    *,
    fixed: dict[str, Any],
    ids: dict[str, int],
    custom_keys: list[str],
    prefix: str = "",
    item: str | None = None,
) -> list[Leaf]:
    """A leaf for every string the schema accepts, a fixed one where the caller gives a value
    or where an ``<entity>_id`` names a record made before; other values are left out."""
    result = []
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        path = prefix + name
        types = api.types(prop)
        if path in fixed:
            result.append(Leaf(path, item, name in required, fixed=fixed[path]))
        elif "string" in types:
            upload = api.resolve(prop).get("format") == "binary"
            result.append(Leaf(path, item, name in required, as_file=upload))
        elif name.endswith("_id") and name[:-3] in ids:
            result.append(Leaf(path, item, name in required, fixed=ids[name[:-3]]))
        elif "array" in types:
            options = [api.resolve(o) for o in api.resolve(prop).get("anyOf", [prop])]
            items = api.resolve(next(o for o in options if o.get("type") == "array")["items"])
            if items.get("type") == "string":
                result.append(Leaf(path, item, name in required, as_list=True))
            elif set(items.get("properties", {})) == {"type", "id"}:
                # A list of records ({"type": "contact", "id": 5}, e.g. what a task is about):
                # one that exists, no payload.
                if "contact" in ids:
                    result += [
                        Leaf(f"{path}.0.type", f"{path}.0", True, fixed="contact"),
                        Leaf(f"{path}.0.id", f"{path}.0", True, fixed=ids["contact"]),
                    ]
            elif items.get("properties"):
                result += _leaves(
                    api, items, fixed=fixed, ids=ids, custom_keys=[],
                    prefix=f"{path}.0.", item=f"{path}.0",
                )  # fmt: skip
        elif "object" in types and name == "custom":
            result += [Leaf(f"custom.{key}", None, False) for key in custom_keys]
    return result


def _body(leaves: list[Leaf]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for leaf in leaves:
        target: Any = body
        parts = leaf.path.split(".")
        for part, following in itertools.pairwise(parts):
            if following.isdigit():
                target = target.setdefault(part, [{}])
            elif part.isdigit():
                target = target[int(part)]
            else:
                target = target.setdefault(part, {})
        target[parts[-1]] = leaf.value
    return body


class NotApplicable(Exception):
    """The collection does not take records of this entity (e.g. no relationships to deals)."""


def store(
    api: Api, path: str, *, fixed=None, ids=None, custom_keys=(), refs_may_fail=()
) -> tuple[dict, list]:
    """POST a body with a payload in every string to ``path``; each refused value moves its
    field to the next candidate, until the service accepts the body. Returns the created
    object and all leaves: what each field holds, or what it refused (``dropped``)."""
    schema, media_type = api.input_schema(path)
    leaves = _leaves(
        api, schema, fixed=fixed or {}, ids=ids or {}, custom_keys=list(custom_keys)
    )  # fmt: skip
    dropped: list[Leaf] = []
    # Twice the candidates: a field checked against another (a repeat rule needs a due date)
    # is refused only once that other field is left out.
    for _attempt in range(2 * len(CANDIDATES) + 2):
        if media_type == "multipart/form-data":
            response = api.client.post(path, _body(leaves))
        else:
            body = json.dumps(_body(leaves))
            response = api.client.post(path, body, content_type="application/json")
        if response.status_code == 201:
            for leaf in dropped:
                leaf.dropped = True
            return response.json(), leaves + dropped
        assert response.status_code == 422, (path, response.status_code, response.content)
        errors = response.json()["error"]["fields"]
        by_path = {leaf.path: leaf for leaf in leaves}
        for error_path in errors:
            leaf = by_path.get(error_path)
            if leaf is not None and leaf.fixed is not None and error_path in refs_may_fail:
                raise NotApplicable(f"{path} refuses {error_path}={leaf.fixed!r}")
            assert leaf is not None and leaf.fixed is None, (
                f"{path}: refused {error_path!r}, which holds no payload: {errors}"
            )
            leaf.refused.append(leaf.candidate)
            leaf.tried += 1
            if leaf.tried < len(CANDIDATES):
                continue
            # Every payload refused, each with an error on this field: leave it out (with its
            # list item, e.g. a phone number without a number).
            assert not (leaf.required and leaf.item is None), (path, error_path, errors)
            gone = leaf.item if leaf.required else leaf.path
            dropped += [x for x in leaves if x.path == gone or x.path.startswith(gone + ".")]
            leaves = [x for x in leaves if x not in dropped]
    raise AssertionError(f"{path}: no body was accepted")


@dataclass
class Target:
    entity: entities.Entity
    record: dict[str, Any]
    leaves: list[Leaf]

    @property
    def stored(self) -> list[str]:
        """The text values the record holds (what its edit form must show)."""
        return [leaf.value if isinstance(leaf.value, str) else leaf.value[0]
                for leaf in self.leaves if leaf.fixed is None and not leaf.dropped]  # fmt: skip


# The fields that name the kind of record something hangs on: a collection may refuse some
# kinds (relationships link accounts and contacts only), or a field named like a reference
# means something else (a team's ``lead_id`` is a user, not a lead); then the collection is
# skipped for that kind.
KINDS = ("entity", "from_type", "to_type")


def _hanging_on_records(api: Api) -> list[str]:
    keys = entities.registered_keys()
    collections = {e.api_path for e in entities.all_entities()}
    paths = []
    for path, operations in api.spec["paths"].items():
        if "{" in path or "post" not in operations or path in collections:
            continue
        props = set(api.input_schema(path)[0].get("properties", {}))
        if (
            {"entity", "object_id"} <= props
            or "from_id" in props
            or {f"{k}_id" for k in keys} & props
        ):
            paths.append(path)
    return paths


def store_everything(admin) -> list[Target]:
    api = Api(admin)
    team, _ = store(api, "/api/v1/teams")
    rel_type, _ = store(api, "/api/v1/relationship-types", fixed={"key": "xss_type"})
    custom: dict[str, list[str]] = {}
    for entity in entities.all_entities():
        for kind in FieldType.values:
            definition, _ = store(api, "/api/v1/custom-fields", fixed={
                "entity": entity.key, "key": f"xss_{kind}", "field_type": kind,
                "choices": [ALL, PAYLOADS["img"]], "is_required": False, "is_sensitive": False,
            })  # fmt: skip
            custom.setdefault(entity.key, []).append(definition["key"])
    ids: dict[str, int] = {"team": team["id"]}
    targets = []
    for entity in entities.all_entities():
        record, leaves = store(api, entity.api_path, ids=ids, custom_keys=custom[entity.key])
        ids[entity.key] = record["id"]
        targets.append(Target(entity, record, leaves))
        assert any(leaf.candidate == "all" for leaf in leaves), leaves
    # What hangs on a record (timeline entries, relationships, files, shares, and whatever
    # comes later): every collection whose input names a record of an entity.
    skipped: list[str] = []
    for path in _hanging_on_records(api):
        props = api.input_schema(path)[0]["properties"]
        for target in targets:
            key, pk = target.entity.key, target.record["id"]
            # Relationships go to the first other record (an account or contact if there is).
            other = next((t for t in targets if t is not target), target)
            references = {
                f"{key}_id": pk, "entity": key, "object_id": pk, "from_type": key, "from_id": pk,
                "to_type": other.entity.key, "to_id": other.record["id"],
                "type": rel_type["key"], "team_id": team["id"],
            }  # fmt: skip
            if not ({f"{key}_id", "object_id", "from_id"} & set(props)) or (
                "to_id" in props and other is target
            ):
                continue
            fixed = {k: v for k, v in references.items() if k in props}
            try:
                store(api, path, fixed=fixed, refs_may_fail=(*KINDS, f"{key}_id", "object_id"))
            except NotApplicable as reason:
                skipped.append(str(reason))  # explicitly: the collection is not for this kind
                continue
            if "body_format" in props:
                # An HTML body is sanitised, not escaped: nothing that runs may survive.
                store(api, path, fixed={**fixed, "body_format": "html", "body": RICH_TEXT})
    assert len(skipped) < len(targets) * len(_hanging_on_records(api)), skipped
    return targets


def test_payloads_that_validators_refuse_are_refused_on_their_field(admin):
    """What a validator refuses, it refuses with an error on that field (checked in
    ``store``); ``javascript:`` never passes as a URL (it could become a link), markup never
    as an email address, a phone number or a postal code."""
    targets = store_everything(admin)
    leaves = {(t.entity.key, leaf.path): leaf for t in targets for leaf in t.leaves}
    for (key, path), leaf in leaves.items():
        if not leaf.dropped and leaf.candidate in VALID_BUT_HOSTILE:
            # A URL or an email address: every javascript: URL before it was refused.
            for i in range(len(JAVASCRIPT_URLS)):
                assert f"javascript-{i}" in leaf.refused, (key, path, leaf.refused)
    assert leaves[("account", "website")].candidate == "url"
    for key in ("account", "contact"):
        assert leaves[(key, "custom.xss_url")].candidate == "url"
        assert leaves[(key, "emails.0.address")].candidate == "email"
        for path in ("phones.0.number", "addresses.0.postal_code", "custom.xss_date"):
            assert leaves[(key, path)].dropped, (key, path)
    assert sum(not leaf.dropped and leaf.fixed is None for leaf in leaves.values()) >= 30


# --- looking at them in Chromium ------------------------------------------------------------


@pytest.fixture
def page(browser, live_server):
    """A page without the Content-Security-Policy: only escaping stands in the payloads' way."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.base_url = live_server.url
    yield page
    context.close()


# Elements and attributes that only an injected payload would leave in the DOM (the pages
# have no inline scripts or handlers: the real CSP forbids them).
INJECTED = """() => {
  const found = [];
  const visit = (root) => {
    for (const el of root.querySelectorAll('*')) {
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase();
        if (name.startsWith('on') || name.startsWith('hx-on') || name.startsWith('data-hx-on')) {
          found.push(`${el.tagName} ${name}`);
        }
        const url = attr.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
        if (['href', 'src', 'action', 'formaction', 'xlink:href', 'data'].includes(name)
            && /^(javascript|vbscript|data):/.test(url)) {
          found.push(`${el.tagName} ${name}=${attr.value}`);
        }
        if (name === 'style' && /javascript:|url\\(|expression\\(/.test(url)) {
          found.push(`${el.tagName} style=${attr.value}`);
        }
      }
      if (el.tagName === 'SCRIPT' && !el.src) found.push('inline script');
      if (['IFRAME', 'OBJECT', 'EMBED', 'FRAME'].includes(el.tagName)) found.push(el.tagName);
      if (el.tagName === 'IMG' && el.getAttribute('src') === 'x') found.push('img src=x');
      if (el.tagName === 'TEMPLATE') visit(el.content);
    }
  };
  visit(document);
  return {flag: window.__xss === undefined ? null : String(window.__xss), found};
}"""

CONTROL_VALUES = """() => Array.from(document.querySelectorAll('input, textarea, select'))
  .flatMap(el => el.tagName === 'SELECT' ? Array.from(el.selectedOptions, o => o.value)
                                         : [el.value])"""


def assert_nothing_ran(page, where: str, dialogs: list[str]) -> None:
    result = page.evaluate(INJECTED)
    assert result == {"flag": None, "found": []}, where
    assert dialogs == [], where


def _plural(entity: entities.Entity) -> str:
    return entity.api_path.rsplit("/", 1)[-1]


def _list_columns(client: Client, entity: entities.Entity) -> list[str]:
    html = client.get(f"/{_plural(entity)}/").content.decode()
    return re.findall(r'name="cols" value="([^"]+)"', html)


def test_stored_payloads_are_shown_as_text_and_never_run(page, admin_login):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    targets = store_everything(admin_login)
    browser_less = Client()
    browser_less.force_login(admin_login)

    page.goto(page.base_url + "/")
    assert_nothing_ran(page, "home", dialogs)
    for target in targets:
        entity, pk = target.entity, target.record["id"]
        detail = reverse(entity.url_name, args=[pk])
        edit = next(p for p in entity.ui_paths if p.endswith("/edit/"))

        columns = "&".join(f"cols={c}" for c in _list_columns(browser_less, entity))
        page.goto(f"{page.base_url}/{_plural(entity)}/?{columns}")
        expect(page.locator("main")).to_contain_text(ALL)
        assert_nothing_ran(page, f"{entity.key} list", dialogs)

        page.goto(page.base_url + detail)
        expect(page.locator("main")).to_contain_text(ALL)
        assert_nothing_ran(page, f"{entity.key} 360", dialogs)
        page.get_by_role("tab", name="History").click()
        expect(page.locator("#history")).to_contain_text(ALL)
        assert_nothing_ran(page, f"{entity.key} history", dialogs)
        page.fill("#global-search", MARK)
        expect(page.locator("#search-results")).to_contain_text(ALL)
        assert_nothing_ran(page, f"{entity.key} search", dialogs)

        page.goto(page.base_url + edit.format(id=pk))
        shown = "\n".join(page.evaluate(CONTROL_VALUES))
        missing = [value for value in target.stored if value not in shown]
        assert not missing, f"{entity.key} edit form does not show {missing}"
        assert_nothing_ran(page, f"{entity.key} edit form", dialogs)
