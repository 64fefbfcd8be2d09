"""Document builders: a listing row → its search document. Pure functions; the input is the
listing's *public* view (app.listings.policy.public_view), so a field hidden from anonymous
callers can never reach an index, and only the fields named here are copied from it."""

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from importlib.metadata import version
from typing import Any

import jieba

from search import lexical
from search.normalize import normalize

# How a document's text and vector were made: the number changes with normalisation, tokens or the
# lexical vector, and the libraries' versions are in it because their dictionaries decide
# conversions and cuts. `techex search-check` reports documents made another way as stale, so an
# upgrade that needs `techex reindex` says so instead of searching worse in silence.
TEXT_FORMAT = f"1 opencc {version('opencc')} jieba {jieba.__version__}"


def _value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return float(value)  # Meilisearch filters numbers as doubles; the API reads prices from PostgreSQL
    if isinstance(value, datetime):
        return value.timestamp()  # to the microsecond: "newest first" orders listings of one second
    if isinstance(value, date):
        return value.isoformat()
    return value


def _regions(*codes: str | None) -> list[str]:
    """A code with its province and city, so a filter on 320000 finds 320102."""
    found: list[str] = []
    for code in codes:
        if code and len(code) == 6:
            for level in (code[:2] + "0000", code[:4] + "00", code):
                if level not in found:
                    found.append(level)
    return found


def _text(*parts: Any) -> str:
    flat: list[str] = []
    for part in parts:
        if isinstance(part, (list, tuple)):
            flat.extend(str(item) for item in part if item)
        elif part:
            flat.append(str(part))
    return normalize("\n".join(flat))


def build(kind: str, public: dict[str, Any]) -> dict[str, Any]:
    """The search document of one published listing, from its public view."""
    get = public.get
    if kind in ("achievement", "demand"):
        title, body = get("title") or "", get("description") or ""
    elif kind == "expert":
        title, body = get("name") or "", get("biography") or ""
    else:
        title, body = get("name") or "", get("description") or ""
    fields = get("fields") if kind == "expert" else ([get("field")] if get("field") else [])
    regions = _regions(get("region_code"), *(get("regions_served") or []))
    details = {
        "achievement": lambda: _text(get("application_scenarios"), get("team"), get("funding_project")),
        "demand": lambda: "",
        "expert": lambda: _text(get("professional_title"), get("institution")),
        "agency": lambda: _text(get("qualifications")),
    }[kind]()
    document: dict[str, Any] = {
        "id": str(get("id")),
        "type": kind,
        "display_title": title,
        "title": normalize(title),
        "keywords": [normalize(keyword) for keyword in get("keywords") or []],
        "description": normalize(body),
        "details": details,
        "organization": normalize(get("owner_organization_name") or ""),
        "field": [_value(field) for field in fields or []],
        "region_code": get("region_code"),
        "regions": regions,
        "region_province": regions[0] if regions else None,
        "published_at": _value(get("published_at")),
        "updated_at": _value(get("updated_at")),
        "version": get("version"),
        "text_format": TEXT_FORMAT,
    }
    if kind == "achievement":
        document |= {
            "maturity": get("maturity"),
            "transfer_modes": list(get("transfer_modes") or []),
            "asking_price": _value(get("asking_price")),
        }
    elif kind == "demand":
        document |= {
            "cooperation_modes": list(get("cooperation_modes") or []),
            "budget_min": _value(get("budget_min")),
            "budget_max": _value(get("budget_max")),
            "deadline": _value(get("deadline")),
        }
    elif kind == "expert":
        document |= {"services": list(get("services") or [])}
    else:
        document |= {"service_kinds": list(get("service_kinds") or [])}
    if get("owner_organization_id") is not None:
        document["owner_organization_id"] = str(get("owner_organization_id"))
    document["_vectors"] = {
        lexical.EMBEDDER: lexical.document_vector(
            document["title"], [" ".join(document["keywords"]), document["description"], details]
        )
    }
    return document


def without_vector(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its vector left out (`null`: Meilisearch refuses a document with none)."""
    return document | {"_vectors": {lexical.EMBEDDER: None}}
