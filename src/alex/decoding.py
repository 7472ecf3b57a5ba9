"""Bytes to text as browsers decode them: for the pages the researcher fetches and the
``.html`` files ``alex ingest`` reads alike."""

from __future__ import annotations

import codecs
import re
from typing import Final

_META_CHARSET: Final = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# The legacy encodings web pages use, for detection when a page declares none: a short
# list, because detection among every codec Python knows picks oddities such as cp775.
_DETECTABLE: Final = (
    "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
    "iso8859_15", "iso8859_2", "koi8_r", "cp874", "cp932", "euc_jp", "iso2022_jp", "gb18030",
    "big5", "euc_kr",
)  # fmt: skip
# WHATWG decodes these labels as windows-1252, and so do browsers.
_CHARSET_ALIASES: Final = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}


def _codec(label: str | None) -> str | None:
    """A Python text codec for a charset label, or None for an unknown or non-text one."""
    if not label:
        return None
    name = _CHARSET_ALIASES.get(label.strip().lower(), label.strip().lower())
    try:
        codec = codecs.lookup(name)
        # LookupError for bytes-to-bytes codecs such as "base64" (b"" would not tell).
        b"a".decode(codec.name, "replace")
    except LookupError:
        return None
    return codec.name


def decode_body(body: bytes, declared: str | None, *, html: bool) -> tuple[str, str]:
    """The body as text, and the codec used. Never raises on bad bytes.

    As browsers do: a byte-order mark wins, then the declared charset (bad bytes become
    U+FFFD), then a ``<meta charset>``, then UTF-8 when the bytes are valid UTF-8, then
    charset detection, then windows-1252.
    """
    for bom, bom_codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            return body[len(bom) :].decode(bom_codec, "replace"), bom_codec
    meta = _META_CHARSET.search(body[:4096]) if html else None
    for label in (declared, meta.group(1).decode("ascii") if meta else None):
        codec = _codec(label)
        if codec:
            return body.decode(codec, "replace"), codec
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # charset_normalizer comes with trafilatura (imported here: it is slow to import).
    from charset_normalizer import from_bytes

    best = from_bytes(body, cp_isolation=list(_DETECTABLE)).best()
    if best is None or "cp1252" in (best.encoding, *best.could_be_from_charset):
        # Left alone, detection calls Western text cp1250 or cp775; the web's legacy
        # default is windows-1252 whenever it fits as well.
        return body.decode("cp1252", "replace"), "cp1252"
    codec = _codec(best.encoding) or "cp1252"
    return body.decode(codec, "replace"), codec
