"""What may be uploaded: a list of document and image types, each checked by its content
(the ``filetype`` library reads the magic bytes), not by the name alone; text types must be
text. SVG and HTML are not accepted: a browser would run scripts in them."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import filetype

TEXT_TYPES = {
    "txt": "text/plain",
    "csv": "text/csv",
    "md": "text/markdown",
    "vcf": "text/vcard",
    "ics": "text/calendar",
    "eml": "message/rfc822",
}
# Extension -> the extensions ``filetype`` may report for such a file.
BINARY_TYPES = {
    "pdf": {"pdf"},
    "png": {"png"},
    "jpg": {"jpg"},
    "jpeg": {"jpg"},
    "gif": {"gif"},
    "webp": {"webp"},
    "tif": {"tif"},
    "tiff": {"tif"},
    "heic": {"heic"},
    "docx": {"docx"},
    "xlsx": {"xlsx"},
    "pptx": {"pptx"},
    "odt": {"odt"},
    "ods": {"ods"},
    "odp": {"odp"},
    "doc": {"doc"},
    "xls": {"xls"},
    "ppt": {"ppt"},
    "rtf": {"rtf"},
    "zip": {"zip"},
    "msg": {"doc", "xls", "ppt", "msg"},  # Outlook messages are OLE compound files
}
ALLOWED_EXTENSIONS = sorted({*TEXT_TYPES, *BINARY_TYPES})
SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class Checked:
    content_type: str


class NotAllowed(Exception):
    """The file is not of an accepted type, or its content is not what its name says."""


def extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def check(name: str, head: bytes) -> Checked:
    """Check the first bytes of a file named ``name``; raises :class:`NotAllowed`."""
    ext = extension(name)
    if ext in TEXT_TYPES:
        if b"\x00" in head or filetype.guess(head) is not None:
            raise NotAllowed("binary content in a text file")
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            # A cut in the middle of a character at the end of the sample is fine.
            if exc.start < len(head) - 4:
                try:
                    head.decode("cp1252")
                except UnicodeDecodeError:
                    raise NotAllowed("not text") from None
        return Checked(TEXT_TYPES[ext])
    if ext not in BINARY_TYPES:
        raise NotAllowed("type not allowed")
    guess = filetype.guess(head)
    if guess is None or guess.extension not in BINARY_TYPES[ext]:
        raise NotAllowed("content does not match the name")
    return Checked(guess.mime)


def clean_name(name: str) -> str:
    """The user's file name without folders, control characters or surrounding dots and
    spaces, at most 200 characters (keeping the extension)."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().strip(".").strip()
    if len(name) > 200:
        ext = extension(name)
        keep = 200 - len(ext) - 1 if ext and len(ext) < 20 else 200
        name = name[:keep] + (f".{ext}" if keep < 200 else "")
    return name
