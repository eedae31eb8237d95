"""URLs as people (and persisted provenance) may see them: without the secrets they can carry.

A catalog URL can hold credentials: ``https://user:secret@host/v3`` (HTTP basic auth) or a
presigned object URL (``…/catalog.zip?X-Amz-Signature=…&X-Amz-Credential=…``). The real URL is
used for the request and nowhere else; every URL that becomes text in an output, a message, a
file in the cache or a cache path name goes through ``redact_url`` first.
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://authority then the rest; the authority ends at the first "/", "?" or "#".
_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<authority>[^/?#]*)(?P<rest>.*)", re.S
)

# ``?key=value`` or ``&key=value`` inside free text.
_QUERY_ITEM = re.compile(r"(?P<lead>[?&])(?P<key>[^=&?#\s'\"()]+)=(?P<value>[^&#\s'\"()]+)")


def redact_url(url: str) -> str:
    """``url`` with its userinfo masked and its query and fragment values masked.

    ``https://user:pw@host/x.zip?X-Amz-Signature=abc&k`` → ``https://***@host/x.zip?X-Amz-Signature=***&***``.
    Query keys are kept (they say what kind of URL it is); a query item without ``=`` is masked
    whole. Text that is not ``scheme://…`` (a local path, a keyword) is returned unchanged, and so
    is a URL with nothing secret in it.
    """
    matched = _URL.match(url)
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
    matched, shown = _URL.match(url), _URL.match(redacted)
    if matched is None or shown is None:
        return _QUERY_ITEM.sub(rf"\g<lead>\g<key>={MASK}", text)
    exact = {url: redacted, matched["rest"]: shown["rest"]}
    secrets: set[str] = set()
    userinfo, at, _host = matched["authority"].rpartition("@")
    if at:
        secrets.update([userinfo, *userinfo.split(":")])
    query = matched["rest"].partition("#")[0].partition("?")[2]
    for item in query.split("&"):
        key, equals, value = item.partition("=")
        secrets.add(value if equals else key)
    # Very short values (``?v=1``) would mangle the rest of the message and hide nothing.
    replacements = {
        **{s: MASK for s in secrets if len(s) >= 4},
        **{k: v for k, v in exact.items() if k},
    }
    for secret in sorted(replacements, key=len, reverse=True):
        text = text.replace(secret, replacements[secret])
    # A URL the message quotes that is not ``url`` (a redirect's target): mask its query values.
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
