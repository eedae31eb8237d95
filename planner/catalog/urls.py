"""URLs as people (and persisted provenance) may see them: without the secrets they can carry.

A catalog URL can hold credentials: ``https://user:secret@host/v3`` (HTTP basic auth) or a
presigned object URL (``…/catalog.zip?X-Amz-Signature=…&X-Amz-Credential=…``). The real URL is
used for the request and nowhere else; every URL that becomes text in an output, a message, a
file in the cache or a cache path name goes through ``redact_url`` first.

A URL as the user types it may carry surrounding whitespace or control characters (``" http://…"``,
a trailing newline from a file): the HTTP library strips them and requests the URL anyway, so
``url_of`` strips them first, and ``redact_url`` recognizes such a URL too — text that the library
would request as a URL is always redacted as one.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, unquote_plus

from planner.errors import InputError

MASK = "***"

# What may surround a URL and is stripped before it is used: C0 controls, space, DEL (WHATWG URL
# parsing, as urllib.parse does) and any other Unicode whitespace (requests strips those).
_EDGE = (
    "".join(
        char for char in map(chr, range(0x3001)) if char.isspace() or char <= " " or char == "\x7f"
    )
    + "\ufeff"
)
# Inside a URL, none of these is ever meant (they are percent-encoded when they are data).
_INSIDE_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\s]")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
# ``scheme://userinfo@`` anywhere in free text.
_USERINFO_IN_TEXT = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)[^/?#@\s]*@")

# scheme://authority then the rest; the authority ends at the first "/", "?" or "#".
_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<authority>[^/?#]*)(?P<rest>.*)", re.S
)

# ``?key=value`` or ``&key=value`` inside free text.
_QUERY_ITEM = re.compile(r"(?P<lead>[?&])(?P<key>[^=&?#\s'\"()]+)=(?P<value>[^&#\s'\"()]+)")


def url_of(text: str) -> str | None:
    """``text`` as a URL (surrounding whitespace and control characters stripped), or None when
    it is not ``scheme://…`` (a local path, a keyword)."""
    stripped = text.strip(_EDGE)
    return stripped if _SCHEME.match(stripped) else None


def require_http_url(text: str, what: str = "the catalog URL") -> str:
    """``text`` as an http(s) URL to request (see ``url_of``); InputError, showing it redacted,
    when it is not one or holds whitespace or control characters inside."""
    url = url_of(text)
    if url is None:
        raise InputError(f"{what} {redact_url(text)!r} is not an http(s):// URL")
    scheme, _, rest = url.partition("://")
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rpartition("@")[2]
    if scheme.lower() not in ("http", "https") or not host:
        raise InputError(f"{what} {redact_url(url)!r} is not an http(s):// URL")
    if _INSIDE_FORBIDDEN.search(url):
        raise InputError(
            f"{what} {redact_url(url)!r} contains whitespace or a control character "
            "(percent-encode it, e.g. %20)"
        )
    return url


def redact_url(url: str) -> str:
    """``url`` with its userinfo masked and its query and fragment values masked.

    ``https://user:pw@host/x.zip?X-Amz-Signature=abc&k`` → ``https://***@host/x.zip?X-Amz-Signature=***&***``.
    Query keys are kept (they say what kind of URL it is); a query item without ``=`` is masked
    whole. Text that is not ``scheme://…`` (a local path, a keyword) is returned unchanged, and so
    is a URL with nothing secret in it.
    """
    stripped = url_of(url)
    if stripped is None:
        return url
    matched = _URL.match(stripped)
    if matched is None:
        return url
    authority = matched["authority"]
    if "@" in authority:
        authority = f"{MASK}@{authority.rpartition('@')[2]}"
    rest = matched["rest"]
    path, hash_mark, fragment = rest.partition("#")
    path, question_mark, query = path.partition("?")
    shown = f"{matched['scheme']}{authority}{path}"
    if question_mark:
        shown += "?" + _mask_query(query)
    if hash_mark:
        shown += "#" + (_mask_query(fragment) if fragment else "")
    return shown


def redact_text(text: str, url: str) -> str:
    """``text`` (e.g. a message from the HTTP library) with what ``url`` hides taken out of it.

    The whole URL, its request target (path and query) and each secret part (userinfo, query
    values) are replaced, longest first, so a message quoting any of them gives nothing away.
    """
    redacted = redact_url(url)
    stripped = url_of(url) or url
    matched, shown = _URL.match(stripped), _URL.match(redacted)
    if matched is None or shown is None:
        return _masked_in_text(text)
    exact = {url: redacted, stripped: redacted, matched["rest"]: shown["rest"]}
    secrets: set[str] = set()
    userinfo, at, _host = matched["authority"].rpartition("@")
    if at:
        secrets.update([userinfo, *userinfo.split(":")])
    query = matched["rest"].partition("#")[0].partition("?")[2]
    for item in query.split("&"):
        key, equals, value = item.partition("=")
        secrets.add(value if equals else key)
    # A library may quote a secret decoded (Basic auth is sent percent-decoded).
    secrets.update({decode(secret) for secret in secrets for decode in (unquote, unquote_plus)})
    # Very short values (``?v=1``) would mangle the rest of the message and hide nothing.
    replacements = {
        **{s: MASK for s in secrets if len(s) >= 4},
        **{k: v for k, v in exact.items() if k},
    }
    for secret in sorted(replacements, key=len, reverse=True):
        text = text.replace(secret, replacements[secret])
    return _masked_in_text(text)


def _masked_in_text(text: str) -> str:
    """A URL the text quotes that is not the one at hand (a redirect's target): its userinfo
    and query values masked."""
    text = _USERINFO_IN_TEXT.sub(rf"\g<scheme>{MASK}@", text)
    return _QUERY_ITEM.sub(rf"\g<lead>\g<key>={MASK}", text)


def _mask_query(query: str) -> str:
    items = []
    for item in query.split("&"):
        key, equals, _value = item.partition("=")
        if equals:
            items.append(f"{key}={MASK}")
        elif item:
            items.append(MASK)
        else:
            items.append("")
    return "&".join(items)
