"""ETags are a row's version (`"3"`); the one parser of the If-Match header that sends one back."""


def if_match_version(value: str | None) -> int | None:
    """`"3"`, `W/"3"` or `3` → 3; `*` (any version, RFC 9110) or absent → None. Anything else is
    a ValueError, which each domain answers in its own documented way."""
    if value is None or value.strip() == "*":
        return None
    tag = value.strip().removeprefix("W/")
    if len(tag) >= 2 and tag[0] == tag[-1] == '"':
        tag = tag[1:-1]
    if not (tag.isascii() and tag.isdigit()):
        raise ValueError(f"not a version ETag: {value!r}")
    return int(tag)
