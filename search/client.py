"""The async Meilisearch client the service shares (meilisearch-python-sdk's AsyncClient).

Async because every search runs on the request path: the official `meilisearch` package is
synchronous and would block the event loop (or need a thread per call).
"""

from meilisearch_python_sdk import AsyncClient

from app.core.config import Settings


def make_client(settings: Settings) -> AsyncClient:
    if settings.meili_url is None:
        raise RuntimeError("MEILI_URL is not set")
    key = settings.meili_master_key.get_secret_value() if settings.meili_master_key else None
    return AsyncClient(settings.meili_url, key, timeout=settings.meili_timeout_seconds)


async def is_healthy(client: AsyncClient) -> bool:
    try:
        return (await client.health()).status == "available"
    except Exception:  # any transport or HTTP failure means "not ready", never a 500
        return False
