"""The leak tests publish through the API and read the real index and a real webhook receiver."""

from tests.matching.conftest import webhook_receiver  # noqa: F401
from tests.search.conftest import _empty_indexes, engine, indexed, make_listing, owner  # noqa: F401
