"""Realistic German and English demo data, written through the services.

``generate()`` creates teams and users, accounts (companies) with legal forms, WZ/NACE
industries, addresses, phones and tags, contacts linked to them, relationships between them
and a year of timeline entries. Every record is written by the same services the UI and the
API use, so history and the search index are filled as well. The same seed gives the same
names, companies and texts.

Email addresses and websites use the reserved ``.example`` top-level domain (RFC 2606), so a
demo database can never mail a real person by mistake.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import phonenumbers
from django.db import transaction
from django.utils import timezone
from faker import Faker

from farley.contacts.models import Account, AccountStatus, Contact
from farley.contacts.services import (
    account_create,
    contact_create,
    relationship_create,
    timeline_entry_create,
)
from farley.core import permissions
from farley.core.models import Role, Team, User
from farley.core.services import team_update, user_create

# --- fixed lists ------------------------------------------------------------------------------

TEAMS = ["Vertrieb Nord", "Vertrieb Süd", "Key Accounts", "Kundenservice"]

# (email, full name, role, teams, language, leads these teams)
USERS: list[tuple[str, str, str, list[str], str, list[str]]] = [
    (
        "thomas.richter@farley.local",
        "Thomas Richter",
        "manager",
        ["Vertrieb Nord", "Vertrieb Süd"],
        "de",
        ["Vertrieb Nord", "Vertrieb Süd"],
    ),
    ("anna.schmidt@farley.local", "Anna Schmidt", "sales", ["Vertrieb Nord"], "de", []),
    ("jonas.weber@farley.local", "Jonas Weber", "sales", ["Vertrieb Süd"], "de", []),
    (
        "lena.hoffmann@farley.local",
        "Lena Hoffmann",
        "sales",
        ["Key Accounts"],
        "de",
        ["Key Accounts"],
    ),
    ("oliver.bennett@farley.local", "Oliver Bennett", "sales", ["Key Accounts"], "en", []),
    (
        "mehmet.yilmaz@farley.local",
        "Mehmet Yılmaz",
        "service",
        ["Kundenservice"],
        "de",
        ["Kundenservice"],
    ),
    ("sophie.wagner@farley.local", "Sophie Wagner", "service", ["Kundenservice"], "de", []),
]

# City, state, phone area code (without trunk 0), real postal codes of the city.
DE_CITIES: list[tuple[str, str, str, list[str]]] = [
    (
        "Berlin",
        "Berlin",
        "30",
        [
            "10115",
            "10117",
            "10178",
            "10243",
            "10405",
            "10435",
            "10551",
            "10623",
            "10785",
            "10969",
            "12043",
            "13353",
            "14057",
        ],
    ),
    ("Hamburg", "Hamburg", "40", ["20095", "20148", "20354", "20457", "22041", "22303", "22765"]),
    (
        "München",
        "Bayern",
        "89",
        ["80331", "80333", "80335", "80469", "80538", "80636", "80802", "81369", "81541", "81675"],
    ),
    ("Köln", "Nordrhein-Westfalen", "221", ["50667", "50672", "50674", "50733", "50823", "50935"]),
    ("Frankfurt am Main", "Hessen", "69", ["60311", "60313", "60325", "60486", "60594"]),
    ("Stuttgart", "Baden-Württemberg", "711", ["70173", "70176", "70182", "70190", "70469"]),
    ("Düsseldorf", "Nordrhein-Westfalen", "211", ["40210", "40212", "40213", "40474", "40549"]),
    ("Leipzig", "Sachsen", "341", ["04103", "04109", "04177", "04275", "04315"]),
    ("Dresden", "Sachsen", "351", ["01067", "01069", "01097", "01099", "01307"]),
    ("Hannover", "Niedersachsen", "511", ["30159", "30161", "30169", "30173", "30449"]),
    ("Nürnberg", "Bayern", "911", ["90402", "90403", "90408", "90429", "90478"]),
    ("Bremen", "Bremen", "421", ["28195", "28199", "28203", "28209", "28359"]),
    ("Essen", "Nordrhein-Westfalen", "201", ["45127", "45128", "45131", "45138"]),
    ("Dortmund", "Nordrhein-Westfalen", "231", ["44135", "44137", "44139", "44147"]),
    ("Bonn", "Nordrhein-Westfalen", "228", ["53111", "53113", "53115", "53175"]),
    ("Münster", "Nordrhein-Westfalen", "251", ["48143", "48145", "48149", "48153"]),
    ("Karlsruhe", "Baden-Württemberg", "721", ["76131", "76133", "76135", "76137"]),
    ("Mannheim", "Baden-Württemberg", "621", ["68159", "68161", "68163", "68165"]),
    ("Augsburg", "Bayern", "821", ["86150", "86152", "86153", "86159"]),
    ("Freiburg im Breisgau", "Baden-Württemberg", "761", ["79098", "79100", "79102", "79104"]),
    ("Kiel", "Schleswig-Holstein", "431", ["24103", "24105", "24106", "24114"]),
    ("Rostock", "Mecklenburg-Vorpommern", "381", ["18055", "18057", "18059", "18069"]),
    ("Potsdam", "Brandenburg", "331", ["14467", "14469", "14471", "14482"]),
    ("Erfurt", "Thüringen", "361", ["99084", "99085", "99089", "99096"]),
    ("Mainz", "Rheinland-Pfalz", "6131", ["55116", "55118", "55122", "55131"]),
    ("Regensburg", "Bayern", "941", ["93047", "93049", "93051", "93053"]),
]
# Berlin, Hamburg and Munich are more likely, as in real customer bases.
DE_CITY_WEIGHTS = [8, 5, 6, 3, 3, 3, 3] + [1] * (len(DE_CITIES) - 7)

GB_CITIES: list[tuple[str, str, str, list[str]]] = [
    ("London", "Greater London", "20", ["EC1A 1BB", "SW1A 2AA", "W1D 3QF", "E14 5AB", "N1 9GU"]),
    ("Manchester", "Greater Manchester", "161", ["M1 1AE", "M2 3WQ", "M3 4LZ"]),
    ("Birmingham", "West Midlands", "121", ["B1 1BB", "B3 2PP", "B4 6AT"]),
    ("Edinburgh", "Scotland", "131", ["EH1 1YZ", "EH2 2ER", "EH3 9QG"]),
]

DE_STREETS = [
    "Hauptstraße",
    "Bahnhofstraße",
    "Gartenstraße",
    "Schillerstraße",
    "Goethestraße",
    "Lindenstraße",
    "Industriestraße",
    "Friedrichstraße",
    "Berliner Straße",
    "Kirchstraße",
    "Mozartstraße",
    "Ringstraße",
    "Am Markt",
    "Marktplatz",
    "Poststraße",
    "Rosenweg",
    "Schulstraße",
    "Waldstraße",
    "Dorfstraße",
    "Feldstraße",
    "Kaiserstraße",
    "Hafenstraße",
    "Gewerbepark",
    "Im Technologiepark",
    "Königsallee",
    "Uhlandstraße",
    "Wilhelmstraße",
    "Beethovenstraße",
    "Münchener Straße",
    "Hansaring",
]
GB_STREETS = [
    "High Street",
    "Station Road",
    "Church Lane",
    "Victoria Road",
    "King Street",
    "Queen's Road",
    "Park Avenue",
    "Mill Lane",
    "London Road",
    "George Street",
]

# WZ 2008 (German edition of NACE Rev. 2) code, German label, English label, name words.
INDUSTRIES: list[tuple[str, str, str, list[str]]] = [
    (
        "62.01",
        "Programmierungstätigkeiten",
        "Computer programming",
        ["Software", "Digital", "Systems"],
    ),
    (
        "62.02",
        "Erbringung von Beratungsleistungen auf dem Gebiet der Informationstechnologie",
        "Computer consultancy",
        ["IT-Beratung", "IT Consulting", "Datentechnik"],
    ),
    (
        "28.22",
        "Herstellung von Hebezeugen und Fördermitteln",
        "Lifting and handling equipment",
        ["Fördertechnik", "Krantechnik"],
    ),
    (
        "29.32",
        "Herstellung von sonstigen Teilen und sonstigem Zubehör für Kraftwagen",
        "Motor vehicle parts",
        ["Automotive", "Fahrzeugteile"],
    ),
    ("25.62", "Mechanik a. n. g.", "Machining", ["Präzisionsmechanik", "Metallbearbeitung"]),
    (
        "46.90",
        "Großhandel ohne ausgeprägten Schwerpunkt",
        "Non-specialised wholesale trade",
        ["Handel", "Großhandel", "Trading"],
    ),
    (
        "47.91",
        "Versand- und Internet-Einzelhandel",
        "Retail via mail order or internet",
        ["Versand", "Online-Handel"],
    ),
    (
        "49.41",
        "Güterbeförderung im Straßenverkehr",
        "Freight transport by road",
        ["Spedition", "Transporte"],
    ),
    ("52.10", "Lagerei", "Warehousing and storage", ["Logistik", "Lagerlogistik"]),
    (
        "64.19",
        "Kreditinstitute (ohne Spezialkreditinstitute)",
        "Other monetary intermediation",
        ["Bank", "Finanz"],
    ),
    ("65.12", "Nichtlebensversicherungen", "Non-life insurance", ["Versicherung", "Assekuranz"]),
    (
        "69.20",
        "Wirtschaftsprüfung und Steuerberatung; Buchführung",
        "Accounting and tax consultancy",
        ["Steuerberatung", "Treuhand"],
    ),
    (
        "70.22",
        "Unternehmensberatung",
        "Business and management consultancy",
        ["Consulting", "Management Partner"],
    ),
    ("71.12", "Ingenieurbüros", "Engineering activities", ["Ingenieure", "Engineering", "Planung"]),
    (
        "41.20",
        "Bau von Gebäuden",
        "Construction of buildings",
        ["Bau", "Hochbau", "Bauunternehmung"],
    ),
    ("43.21", "Elektroinstallation", "Electrical installation", ["Elektrotechnik", "Elektro"]),
    (
        "10.71",
        "Herstellung von Backwaren (ohne Dauerbackwaren)",
        "Manufacture of bread and pastry",
        ["Backwaren", "Bäckerei"],
    ),
    (
        "20.59",
        "Herstellung von sonstigen chemischen Erzeugnissen a. n. g.",
        "Other chemical products",
        ["Chemie", "Chemische Werke"],
    ),
    (
        "21.20",
        "Herstellung von pharmazeutischen Spezialitäten und sonstigen pharmazeutischen Erzeugnissen",
        "Pharmaceutical preparations",
        ["Pharma", "Arzneimittel"],
    ),
    (
        "35.11",
        "Elektrizitätserzeugung",
        "Production of electricity",
        ["Energie", "Stadtwerke", "Solar"],
    ),
    (
        "55.10",
        "Hotels, Gasthöfe und Pensionen",
        "Hotels and similar accommodation",
        ["Hotels", "Hotelbetriebe"],
    ),
    ("73.11", "Werbeagenturen", "Advertising agencies", ["Werbeagentur", "Kommunikation", "Media"]),
    ("86.10", "Krankenhäuser", "Hospital activities", ["Kliniken", "Klinikum"]),
]

ACCOUNT_STATUSES = [
    (AccountStatus.CUSTOMER, 45),
    (AccountStatus.PROSPECT, 30),
    (AccountStatus.FORMER_CUSTOMER, 10),
    (AccountStatus.PARTNER, 10),
    (AccountStatus.COMPETITOR, 5),
]
ACCOUNT_TAGS = [
    "A-Kunde",
    "B-Kunde",
    "C-Kunde",
    "Key Account",
    "Mittelstand",
    "Konzern",
    "Messe 2025",
    "Newsletter",
    "Rahmenvertrag",
    "Referenzkunde",
]
CONTACT_TAGS = ["Entscheider", "Newsletter", "Messekontakt", "VIP", "Webinar", "Weihnachtskarte"]

LINK_ROLES_DE = [
    "Geschäftsführung",
    "Einkauf",
    "Vertrieb",
    "IT-Leitung",
    "Buchhaltung",
    "Technischer Ansprechpartner",
    "Entscheider",
    "Projektleitung",
    "Assistenz",
]
LINK_ROLES_EN = [
    "Managing Director",
    "Procurement",
    "Sales",
    "Head of IT",
    "Accounts",
    "Technical contact",
    "Decision maker",
    "Project lead",
    "Assistant",
]
JOBS_DE = [
    ("Geschäftsführer", "Geschäftsführerin", "Geschäftsleitung"),
    ("Einkaufsleiter", "Einkaufsleiterin", "Einkauf"),
    ("Vertriebsleiter", "Vertriebsleiterin", "Vertrieb"),
    ("IT-Leiter", "IT-Leiterin", "IT"),
    ("Leiter Buchhaltung", "Leiterin Buchhaltung", "Finanzen"),
    ("Projektingenieur", "Projektingenieurin", "Technik"),
    ("Key Account Manager", "Key Account Managerin", "Vertrieb"),
    ("Sachbearbeiter Einkauf", "Sachbearbeiterin Einkauf", "Einkauf"),
    ("Assistent der Geschäftsführung", "Assistentin der Geschäftsführung", "Geschäftsleitung"),
    ("Marketingleiter", "Marketingleiterin", "Marketing"),
    ("Produktionsleiter", "Produktionsleiterin", "Produktion"),
]
JOBS_EN = [
    ("Managing Director", "Management"),
    ("Head of Procurement", "Procurement"),
    ("Sales Director", "Sales"),
    ("IT Manager", "IT"),
    ("Finance Manager", "Finance"),
    ("Project Engineer", "Engineering"),
    ("Operations Manager", "Operations"),
    ("Marketing Manager", "Marketing"),
    ("Office Manager", "Administration"),
]

PRODUCTS = [
    "Wartungsvertrag",
    "Lizenzverlängerung",
    "Rahmenvertrag",
    "Servicepaket Premium",
    "Schulung",
    "Ersatzteillieferung",
    "Pilotprojekt",
    "Cloud-Migration",
]
PRODUCTS_EN = [
    "maintenance contract",
    "licence renewal",
    "framework agreement",
    "premium support",
    "training",
    "spare parts delivery",
    "pilot project",
    "cloud migration",
]

# kind -> (direction choices, German templates, English templates); each template is
# (subject, body). Placeholders: {product}, {company}, {first}, {days}, {amount}.
TIMELINE_TEMPLATES: dict[str, tuple[list[str], list[tuple[str, str]], list[tuple[str, str]]]] = {
    "note": (
        [""],
        [
            (
                "Budget für {product} freigegeben",
                "Laut {first} ist das Budget für das nächste Quartal freigegeben. Angebot vorbereiten.",
            ),
            (
                "Ansprechpartner gewechselt",
                "Die Zuständigkeit für {product} liegt künftig bei der Einkaufsleitung.",
            ),
            (
                "Wettbewerber im Gespräch",
                "{company} holt auch ein Angebot beim Wettbewerb ein; Preisdruck erwartet.",
            ),
            (
                "Zufriedenheit hoch",
                "{first} ist mit dem Service sehr zufrieden und empfiehlt uns weiter.",
            ),
            (
                "Interne Notiz: Zahlungsziel",
                "Zahlungsziel auf {days} Tage verlängert, mit Buchhaltung abgestimmt.",
            ),
        ],
        [
            (
                "Budget approved for {product}",
                "{first} confirmed the budget for next quarter. Prepare a quote.",
            ),
            ("New point of contact", "Procurement now owns the {product} topic."),
            (
                "Competitor involved",
                "{company} is also asking a competitor for a quote; expect price pressure.",
            ),
            (
                "Very satisfied customer",
                "{first} is very happy with our service and recommends us.",
            ),
        ],
    ),
    "call": (
        ["in", "out"],
        [
            (
                "Telefonat zu {product}",
                "{first} hat Fragen zum Leistungsumfang; Rückruf mit Technik vereinbart.",
            ),
            ("Rückruf wegen Angebot", "Angebot besprochen, Entscheidung in ca. {days} Tagen."),
            ("Terminabstimmung", "Vor-Ort-Termin für die nächste Woche vereinbart."),
            ("Reklamation telefonisch", "Lieferung unvollständig; Ersatz wurde zugesagt."),
            (
                "Kaltakquise",
                "Erstkontakt; Interesse an {product}, Unterlagen per E-Mail gewünscht.",
            ),
        ],
        [
            (
                "Call about {product}",
                "{first} asked about the scope; agreed a call-back with engineering.",
            ),
            (
                "Follow-up on the quote",
                "Discussed the quote, decision expected in about {days} days.",
            ),
            ("Scheduling", "Agreed an on-site meeting for next week."),
            ("Complaint by phone", "Delivery incomplete; replacement promised."),
        ],
    ),
    "email": (
        ["in", "out"],
        [
            (
                "Angebot {product}",
                "Sehr geehrte Damen und Herren,\nanbei unser Angebot über {amount} EUR netto.",
            ),
            ("AW: Liefertermin", "Der Liefertermin verschiebt sich um eine Woche."),
            (
                "Unterlagen zur Schulung",
                "Hallo {first},\nwie besprochen die Unterlagen zur Schulung.",
            ),
            ("Rechnungsanfrage", "Bitte senden Sie uns eine Kopie der letzten Rechnung."),
            ("Einladung Hausmesse", "Wir laden Sie herzlich zu unserer Hausmesse ein."),
        ],
        [
            (
                "Quote: {product}",
                "Dear {first},\nplease find attached our quote for {amount} EUR net.",
            ),
            ("RE: delivery date", "The delivery date moves by one week."),
            ("Training materials", "Hi {first},\nas discussed, here are the training materials."),
            ("Invoice copy", "Could you please send us a copy of the last invoice?"),
        ],
    ),
    "meeting": (
        [""],
        [
            (
                "Vor-Ort-Termin bei {company}",
                "Anforderungen aufgenommen, nächster Schritt: Angebot für {product}.",
            ),
            ("Jahresgespräch", "Rückblick auf das Jahr, Planung für {product} im nächsten Jahr."),
            ("Workshop {product}", "Halbtägiger Workshop mit {first} und dem Fachbereich."),
            ("Messegespräch", "Kurzes Gespräch am Stand, Interesse an {product}."),
        ],
        [
            (
                "On-site visit at {company}",
                "Gathered requirements; next step: quote for {product}.",
            ),
            ("Annual review", "Looked back on the year and planned {product} for next year."),
            ("Workshop: {product}", "Half-day workshop with {first} and the business team."),
        ],
    ),
    "letter": (
        ["out", "in"],
        [
            (
                "Vertragsunterlagen {product}",
                "Vertrag in zweifacher Ausfertigung per Post versandt.",
            ),
            ("Kündigung eingegangen", "Schriftliche Kündigung zum Jahresende eingegangen."),
            ("Weihnachtskarte", "Weihnachtskarte mit persönlichem Gruß versandt."),
        ],
        [
            ("Contract documents: {product}", "Sent the contract in duplicate by post."),
            ("Notice of termination received", "Written notice to the end of the year received."),
        ],
    ),
    "sms": (
        ["out", "in"],
        [
            ("Terminerinnerung", "Erinnerung an den Termin morgen um 10 Uhr."),
            ("Kurze Rückfrage", "Bitte kurz zurückrufen wegen {product}."),
        ],
        [
            ("Appointment reminder", "Reminder: our meeting tomorrow at 10 am."),
            ("Quick question", "Please call back about the {product}."),
        ],
    ),
}
KIND_WEIGHTS = [
    ("note", 20),
    ("call", 30),
    ("email", 30),
    ("meeting", 10),
    ("letter", 5),
    ("sms", 5),
]


# --- helpers ----------------------------------------------------------------------------------

_TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
)


def _slug(text: str) -> str:
    """ASCII slug for email local parts and domains: "Müller & Söhne" -> "mueller-soehne"."""
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    out, dash = [], False
    for ch in text:
        if ch.isascii() and ch.isalnum():
            out.append(ch)
            dash = False
        elif not dash and out:
            out.append("-")
            dash = True
    return "".join(out).strip("-")


def _de_vat_id(rng: random.Random) -> str:
    """A German VAT ID with a correct ISO 7064 Mod 11,10 check digit."""
    from stdnum.iso7064 import mod_11_10

    body = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(7))
    return "DE" + body + mod_11_10.calc_check_digit(body)


def _phone(rng: random.Random, country: str, area: str | None, *, mobile: bool = False) -> str:
    """A number that libphonenumber accepts as valid, in E.164."""
    for _ in range(50):
        if country == "GB":
            if mobile:
                raw = (
                    "+44 7"
                    + rng.choice(["400", "700", "800", "900", "911", "723"])
                    + f"{rng.randint(0, 999999):06d}"
                )
            elif area == "20":
                raw = f"+44 20 {rng.choice('378')}{rng.randint(0, 9999999):07d}"
            else:
                raw = f"+44 {area} {rng.randint(2, 9)}{rng.randint(0, 999999):06d}"
        elif mobile:
            prefix = rng.choice(
                ["151", "152", "160", "162", "170", "171", "172", "175", "176", "177", "179"]
            )
            length = 7 if prefix in ("160", "162") and rng.random() < 0.5 else 8
            raw = f"+49 {prefix} {rng.randint(10 ** (length - 1), 10**length - 1)}"
        else:
            length = max(5, 10 - len(area) - rng.randint(0, 1))
            raw = f"+49 {area} {rng.randint(2, 9)}{rng.randint(0, 10 ** (length - 1) - 1):0{length - 1}d}"
        parsed = phonenumbers.parse(raw, None)
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return "+4930" + f"{rng.randint(2000000, 9999999)}"


def _account_description(rng: random.Random, english: bool, industry: str, city: str) -> str:
    since = rng.randint(2009, 2024)
    if english:
        return f"{industry}, based in {city}. In touch since {since}; prefers quarterly reviews."
    return (
        f"{industry} mit Sitz in {city}. Geschäftsbeziehung seit {since}; "
        f"{rng.choice(['Entscheidungen über den Einkauf', 'Rahmenverträge', 'Jahresgespräche im Herbst'])}."
    )


def _weighted(rng: random.Random, items: list[tuple[Any, int]]) -> Any:
    return rng.choices([i for i, _w in items], weights=[w for _i, w in items])[0]


@dataclass
class _Place:
    country: str
    city: str
    region: str
    area: str
    postal_code: str
    street: str
    house_number: str

    def address(self, kind: str = "business") -> dict[str, str]:
        return {
            "kind": kind,
            "street": self.street,
            "house_number": self.house_number,
            "postal_code": self.postal_code,
            "city": self.city,
            "region": self.region,
            "country": self.country,
        }


@dataclass
class _AccountInfo:
    account: Account
    domain: str
    place: _Place
    english: bool
    contacts: list[Contact] = field(default_factory=list)


def _place(rng: random.Random, country: str) -> _Place:
    if country == "GB":
        city, region, area, codes = rng.choice(GB_CITIES)
        return _Place(
            "GB",
            city,
            region,
            area,
            rng.choice(codes),
            rng.choice(GB_STREETS),
            str(rng.randint(1, 240)),
        )
    city, region, area, codes = rng.choices(DE_CITIES, weights=DE_CITY_WEIGHTS)[0]
    number = str(rng.randint(1, 180)) + (rng.choice("abc") if rng.random() < 0.08 else "")
    return _Place("DE", city, region, area, rng.choice(codes), rng.choice(DE_STREETS), number)


# --- users ------------------------------------------------------------------------------------


def _administrator() -> User:
    admin = (
        User.objects.filter(is_active=True, role__is_administrator=True).order_by("pk").first()
        or User.objects.filter(is_active=True, is_superuser=True).order_by("pk").first()
    )
    if admin is None:
        admin = user_create(
            actor=None,
            email="demo@farley.local",
            password=secrets.token_urlsafe(18),
            role="administrator",
            full_name="Demo Administrator",
            team_names=["Vertrieb Nord"],
        )
    return admin


def _users(admin: User) -> tuple[list[User], int]:
    """The demo users (created when missing) and how many were new."""
    created = 0
    users = []
    for email, name, role, teams, language, leads in USERS:
        user = User.objects.filter(email__iexact=email).first()
        if user is None and Role.objects.filter(key=role).exists():
            user = user_create(
                actor=None,
                email=email,
                password=secrets.token_urlsafe(18),
                role=role,
                full_name=name,
                team_names=teams,
                language=language,
            )
            created += 1
        if user is None:
            continue
        for team_name in leads:
            team = Team.objects.filter(name=team_name, lead__isnull=True).first()
            if team is not None:
                team_update(actor=admin, team_id=team.pk, data={"lead_id": user.pk})
        if permissions.can(user, "create", "contact"):
            users.append(user)
    for name in TEAMS:
        Team.objects.get_or_create(name=name)
    return users, created


# --- generate ---------------------------------------------------------------------------------


def generate(*, contacts: int = 300, seed: int = 42) -> str:
    """Create demo data with about ``contacts`` contacts; returns a one-line summary.

    Called explicitly (``farley demo-data``, ``farley first-start``), it always adds data,
    also to a database that has some already. Everything is written in one transaction.
    """
    started = time.monotonic()
    rng = random.Random(seed)
    fake_de = Faker("de_DE")
    fake_de.seed_instance(seed)
    fake_en = Faker("en_GB")
    fake_en.seed_instance(seed + 1)
    contacts = max(0, int(contacts))
    n_accounts = max(1, round(contacts / 3)) if contacts else 0
    counts = {"accounts": 0, "contacts": 0, "relationships": 0, "timeline": 0}

    with transaction.atomic():
        admin = _administrator()
        users, new_users = _users(admin)
        owners = [u for u in users if u.role.key in ("sales", "manager")] or [admin]
        service_users = [u for u in users if u.role.key == "service"] or owners
        team_of = {u.pk: list(u.teams.order_by("pk")) for u in [*owners, *service_users, admin]}

        def owner_and_team(pool: list[User]) -> dict[str, int | None]:
            user = rng.choice(pool)
            teams = team_of.get(user.pk) or []
            return {"owner_id": user.pk, "team_id": rng.choice(teams).pk if teams else None}

        # Accounts ----------------------------------------------------------------------
        infos: list[_AccountInfo] = []
        used_names: set[str] = set()
        for _i in range(n_accounts):
            english = rng.random() < 0.12
            code, label_de, label_en, words = rng.choice(INDUSTRIES)
            fake = fake_en if english else fake_de
            if english:
                legal_form = "Ltd"
            else:
                legal_form = _weighted(
                    rng, [("GmbH", 60), ("AG", 10), ("KG", 8), ("GmbH & Co. KG", 22)]
                )
            for _attempt in range(10):
                base = fake.last_name()
                style = rng.random()
                if style < 0.2:
                    base = f"{base} & {fake.last_name()}"
                elif style < 0.3 and not english:
                    base = f"{base} & Söhne"
                name = f"{base} {rng.choice(words)} {legal_form}"
                if name not in used_names:
                    break
            used_names.add(name)
            place = _place(rng, "GB" if english else "DE")
            domain = f"{_slug(name.rsplit(' ', 1)[0] if english else name.split(' ' + legal_form)[0])}.example"
            employees = int(min(60000, max(3, rng.lognormvariate(3.8, 1.4))))
            revenue = Decimal(employees * rng.randint(80, 260)) * 1000
            parent = None
            if infos and rng.random() < 0.1:
                candidates = [i for i in infos if i.account.parent_id is None and not i.english][
                    :40
                ]
                parent = rng.choice(candidates).account if candidates else None
            phones = [{"number": _phone(rng, place.country, place.area), "kind": "work"}]
            if rng.random() < 0.3:
                phones.append({"number": _phone(rng, place.country, place.area), "kind": "fax"})
            data: dict[str, Any] = {
                "name": name,
                "legal_form": legal_form,
                "industry_code": code,
                "industry_label": label_en if english else label_de,
                "employees": employees,
                "annual_revenue": str(revenue),
                "revenue_currency": "GBP" if english else "EUR",
                "website": f"https://www.{domain}",
                "vat_id": "" if english else (_de_vat_id(rng) if rng.random() < 0.7 else ""),
                "status": _weighted(rng, ACCOUNT_STATUSES),
                "parent_id": parent.pk if parent else None,
                "description": ""
                if rng.random() < 0.5
                else _account_description(
                    rng, english, label_en if english else label_de, place.city
                ),
                "emails": [{"address": f"info@{domain}", "kind": "work"}],
                "phones": phones
                if len({p["number"] for p in phones}) == len(phones)
                else phones[:1],
                "addresses": [place.address()],
                "tags": rng.sample(ACCOUNT_TAGS, k=rng.choice([0, 1, 1, 2, 3])),
                **owner_and_team(owners),
            }
            if rng.random() < 0.25:
                billing = _place(rng, place.country)
                data["addresses"].append(billing.address("billing"))
            account = account_create(actor=admin, data=data)
            infos.append(_AccountInfo(account, domain, place, english))
            counts["accounts"] += 1

        # Contacts ----------------------------------------------------------------------
        all_contacts: list[tuple[Contact, _AccountInfo | None, bool]] = []
        # Bigger companies have more contacts; every account gets its first one in turn.
        weights = [max(1.0, i.account.employees**0.5) for i in infos]
        for i in range(contacts):
            if i < len(infos):
                info: _AccountInfo | None = infos[i]
            elif infos and rng.random() < 0.9:
                info = rng.choices(infos, weights=weights)[0]
            else:
                info = None
            english = info.english if info else rng.random() < 0.15
            if info and not info.english and rng.random() < 0.05:
                english = True  # an English-speaking employee at a German company
            fake = fake_en if english else fake_de
            female = rng.random() < 0.48
            first = fake.first_name_female() if female else fake.first_name_male()
            last = fake.last_name()
            if english:
                job, department = rng.choice(JOBS_EN)
            else:
                job_m, job_f, department = rng.choice(JOBS_DE)
                job = job_f if female else job_m
            title = ""
            if not english and rng.random() < 0.1:
                title = "Prof. Dr." if rng.random() < 0.15 else "Dr."
            local = f"{_slug(first)}.{_slug(last)}"
            emails = [
                {
                    "address": f"{local}@{info.domain if info else 'privat.example'}",
                    "kind": "work" if info else "private",
                }
            ]
            if info and rng.random() < 0.35:
                emails.append(
                    {"address": f"{local}{rng.randint(1, 99)}@privat.example", "kind": "private"}
                )
            country = info.place.country if info else ("GB" if english else "DE")
            if info and rng.random() < 0.7:
                place = info.place
                address = place.address("business")
            else:
                place = _place(rng, country)
                address = place.address("private")
            phones = []
            if info:
                phones.append(
                    {"number": _phone(rng, info.place.country, info.place.area), "kind": "work"}
                )
            elif rng.random() < 0.5:
                phones.append({"number": _phone(rng, place.country, place.area), "kind": "private"})
            if not phones or rng.random() < 0.6:
                number = _phone(rng, place.country, place.area, mobile=True)
                if number not in {p["number"] for p in phones}:
                    phones.append({"number": number, "kind": "mobile"})
            links = []
            if info:
                roles = LINK_ROLES_EN if english else LINK_ROLES_DE
                links.append({"account_id": info.account.pk, "role": rng.choice(roles)})
                if rng.random() < 0.08 and len(infos) > 1:
                    other = rng.choice(infos)
                    if other is not info:
                        links.append(
                            {
                                "account_id": other.account.pk,
                                "role": "Advisory board" if english else "Beirat",
                            }
                        )
            birthday = None
            if rng.random() < 0.5:
                birthday = (
                    dt.date(1960, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 40))
                ).isoformat()
            owner = (
                {"owner_id": info.account.owner_id, "team_id": info.account.team_id}
                if info and rng.random() < 0.85
                else owner_and_team(service_users if rng.random() < 0.3 else owners)
            )
            data = {
                "salutation": "ms" if female else "mr",
                "academic_title": title,
                "first_name": first,
                "last_name": last,
                "job_title": job if info else "",
                "department": department if info else "",
                "language": "en" if english else "de",
                "birthday": birthday,
                "preferred_channel": _weighted(
                    rng, [("", 40), ("email", 30), ("phone", 20), ("letter", 5), ("meeting", 5)]
                ),
                "description": "",
                "emails": emails,
                "phones": phones,
                "addresses": [address],
                "account_links": links,
                "tags": rng.sample(CONTACT_TAGS, k=rng.choice([0, 0, 1, 1, 2])),
                **owner,
            }
            contact = contact_create(actor=admin, data=data)
            if info:
                info.contacts.append(contact)
            all_contacts.append((contact, info, english))
            counts["contacts"] += 1

        # Relationships -----------------------------------------------------------------
        def relate(
            kind: str, source: Account | Contact, target: Account | Contact, note: str = ""
        ) -> None:
            relationship_create(
                actor=admin,
                data={
                    "type": kind,
                    "from_type": "account" if isinstance(source, Account) else "contact",
                    "from_id": source.pk,
                    "to_type": "account" if isinstance(target, Account) else "contact",
                    "to_id": target.pk,
                    "note": note,
                },
            )
            counts["relationships"] += 1

        for info in infos:
            if len(info.contacts) >= 2:
                boss = info.contacts[0]
                for person in info.contacts[1:]:
                    if rng.random() < 0.35:
                        relate("reports_to", person, boss)
        german = [i for i in infos if not i.english]
        for _i in range(max(0, n_accounts // 6)):
            if len(infos) < 2:
                break
            a, b = rng.sample(infos, 2)
            kind = "supplier_of" if rng.random() < 0.6 else "partner_of"
            note = ""
            if kind == "supplier_of":
                note = "Rahmenvertrag seit 2021" if a in german and rng.random() < 0.5 else ""
            relate(kind, a.account, b.account, note)
        people = [c for c, _info, _en in all_contacts]
        for _i in range(max(0, contacts // 15)):
            if len(people) < 2:
                break
            a, b = rng.sample(people, 2)
            relate("referred_by", a, b, "Empfehlung" if rng.random() < 0.5 else "")

        # Timeline ----------------------------------------------------------------------
        now = timezone.localtime()
        actor_of = {u.pk: u for u in [*users, admin]}
        for contact, info, english in all_contacts:
            author = actor_of.get(contact.owner_id, admin)
            company = info.account.name if info else ""
            product_i = rng.randrange(len(PRODUCTS))
            for _n in range(rng.randint(3, 8)):
                kind = _weighted(rng, KIND_WEIGHTS)
                directions, templates_de, templates_en = TIMELINE_TEMPLATES[kind]
                subject, body = rng.choice(templates_en if english else templates_de)
                values = {
                    "product": (PRODUCTS_EN if english else PRODUCTS)[product_i],
                    "company": company or ("your company" if english else "Ihr Unternehmen"),
                    "first": contact.first_name or contact.last_name,
                    "days": rng.choice([14, 30, 45, 60]),
                    "amount": f"{rng.randint(2, 180) * 250:,}".replace(",", "."),
                }
                occurred = now - dt.timedelta(days=rng.uniform(0, 365))
                occurred = occurred.replace(
                    hour=rng.randint(7, 18),
                    minute=rng.choice([0, 5, 15, 30, 45]),
                    second=0,
                    microsecond=0,
                )
                if occurred > now:
                    occurred -= dt.timedelta(days=1)
                timeline_entry_create(
                    actor=author,
                    data={
                        "kind": kind,
                        "direction": rng.choice(directions),
                        "subject": subject.format(**values)[:300],
                        "body": body.format(**values),
                        "occurred_at": occurred,
                        "contact_id": contact.pk,
                    },
                )
                counts["timeline"] += 1

        # Sales ---------------------------------------------------------------------------
        from farley.sales import demo as sales_demo

        sales = sales_demo.generate(
            rng=rng, admin=admin, owners=owners, accounts=[i.account for i in infos], fake=fake_de
        )

        # Time management: tasks, follow-ups, appointments, calls, notes ----------------------
        from farley.activities import demo as activities_demo

        people = list(Contact.objects.filter(deleted_at__isnull=True).order_by("pk")[:400])
        activity_counts = activities_demo.generate(
            rng=rng, users=[admin, *[u for u in owners if u.pk != admin.pk]], contacts=people
        )

    seconds = time.monotonic() - started
    return (
        f"Demo data: {counts['accounts']} accounts, {counts['contacts']} contacts, "
        f"{counts['relationships']} relationships, {counts['timeline']} timeline entries, "
        f"{sales['leads']} leads, {sales['deals']} deals, {sales['quotes']} quotes, "
        f"{sales['orders']} orders, {activity_counts['tasks']} tasks, "
        f"{activity_counts['appointments']} appointments, "
        f"{activity_counts['calls'] + activity_counts['notes']} calls and notes, "
        f"{len(users)} demo users ({new_users} new, random passwords) in {seconds:.1f} s."
    )
