"""The service's Meilisearch keys: each client holds only the rights its work needs.

- `search`: actions `search` — the request path (`/api/v1/search`, matches). A request that
  reached Meilisearch some other way could read what the index shows anyone, nothing more.
- `indexing`: search, documents, indexes, settings and reading tasks — the outbox relays (which also
  check new listings against saved searches) and the index settings at start-up. It cannot read or
  create keys.

Both are scoped to the deployment's indexes (`{prefix}_*`) and created with the master key at
set-up, idempotently: each has a fixed uid (from the index prefix), so a restart or a second process
finds the same key instead of adding one, and a key whose rights differ from these (an older
version's) is replaced. The master key is used for that and for the operator's commands only."""

import logging
import uuid
from typing import Any

from app.core.config import Settings
from search.engine import Engine, SearchUnavailable

log = logging.getLogger("techex.search")

SEARCH, INDEXING = "search", "indexing"
ACTIONS = {
    SEARCH: ["search"],
    INDEXING: ["search", "documents.*", "indexes.*", "settings.*", "tasks.get"],
}
_NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-4f0e-9d7c-5b2a1e3f4c6d")  # ours: the uids are uuid5 in it


def key_uid(prefix: str, role: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{prefix}:{role}"))


def wanted(prefix: str, role: str) -> dict[str, Any]:
    return {
        "uid": key_uid(prefix, role),
        "name": f"techex {prefix} {role}",
        "description": f"Techex ({prefix}_* indexes): {role} only; created by the service at set-up",
        "actions": ACTIONS[role],
        "indexes": [f"{prefix}_*"],
        "expiresAt": None,
    }


def _same_rights(found: dict[str, Any], want: dict[str, Any]) -> bool:
    return (sorted(found["actions"]), sorted(found["indexes"]), found["expiresAt"]) == (
        sorted(want["actions"]),
        sorted(want["indexes"]),
        None,
    )


async def ensure(master: Engine, prefix: str) -> dict[str, str]:
    """Each role's key, created when missing; SearchUnavailable while Meilisearch cannot be reached
    or refuses the master key."""
    keys = {}
    for role in ACTIONS:
        want = wanted(prefix, role)
        path = f"/keys/{want['uid']}"
        status, found = await master.send("GET", path)
        if status == 200 and not _same_rights(found, want):
            # A key's rights are fixed when it is created: replace it (same uid, so the same value).
            log.warning("search key rights changed; replacing it", extra={"role": role})
            await master.call("DELETE", path)
            status = 404
        if status == 404:
            status, found = await master.send("POST", "/keys", json=want)
            if status == 409:  # another process created it meanwhile
                status, found = await master.send("GET", path)
        if status != 200 and status != 201:
            raise SearchUnavailable(f"search key {role}: Meilisearch answered {status} {found}")
        keys[role] = found["key"]
    return keys


class Engines:
    """The service's Meilisearch clients: `search` for the request path, `indexing` for the relays
    and index settings. They hold no key until `provision` has set theirs up with the master key;
    until then Meilisearch refuses them and a search answers 503, as when it is down. Without a master
    key (a Meilisearch run without one, in development) there are no keys to hold."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.search = Engine.from_settings(settings)
        self.indexing = Engine.from_settings(settings)
        self.provisioned = settings.meili_master_key is None

    async def provision(self) -> None:
        if self.provisioned:
            return
        master = Engine.from_settings(self.settings, master=True)
        try:
            keys = await ensure(master, self.settings.meili_index_prefix)
        finally:
            await master.aclose()
        self.search.use_key(keys[SEARCH])
        self.indexing.use_key(keys[INDEXING])
        self.provisioned = True

    async def aclose(self) -> None:
        await self.search.aclose()
        await self.indexing.aclose()
