import pytest

from app.core.etags import if_match_version


@pytest.mark.parametrize(
    ("value", "version"), [('"3"', 3), ('W/"3"', 3), ("3", 3), (' "12" ', 12), ("*", None), (None, None)]
)
def test_version_etags(value: str | None, version: int | None) -> None:
    assert if_match_version(value) == version


@pytest.mark.parametrize("value", ['"3"W', "/3/", '""3""', '"3', "abc", '"-1"', '"³"', "", 'W/"3"x'])
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        if_match_version(value)
