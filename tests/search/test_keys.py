"""Meilisearch keys: the request path searches with a search-only key, the relays index with a key
that cannot touch keys, and the master key only sets them up (search/keys.py)."""

import secrets

from search import keys
from search.engine import Engine, SearchUnavailable


async def test_the_request_path_searches_with_a_search_only_key(app, client) -> None:
    """The API searched with the master key: a request path that reached Meilisearch some other way
    held every right over it."""
    searching = app.state.search
    index = searching.index("achievement")
    status, _ = await searching.send(
        "POST", "/multi-search", json={"queries": [{"indexUid": index, "q": "石墨烯"}]}
    )
    assert status == 200
    written, _ = await searching.send("POST", f"/indexes/{index}/documents", json=[{"id": "planted"}])
    assert written == 403
    for method, path in (
        ("GET", "/keys"),
        ("DELETE", f"/indexes/{index}"),
        ("GET", f"/indexes/{index}/documents"),
    ):
        assert (await searching.send(method, path))[0] == 403, path
    response = await client.get("/api/v1/search", params={"q": "石墨烯"})
    assert response.status_code == 200, response.text


async def test_the_relays_key_indexes_but_cannot_read_or_create_keys(app, settings) -> None:
    indexing = app.state.engines.indexing
    index = indexing.index("achievement")
    task = await indexing.call("POST", f"/indexes/{index}/documents/delete-batch", json=["nothing"])
    await indexing.wait(task)  # writes documents and reads its tasks
    assert (await indexing.send("GET", "/keys"))[0] == 403
    created, _ = await indexing.send(
        "POST", "/keys", json={"actions": ["*"], "indexes": ["*"], "expiresAt": None}
    )
    assert created == 403
    # Another deployment's indexes on the same Meilisearch are out of its reach.
    assert (await indexing.send("POST", "/indexes", json={"uid": "elsewhere_achievement"}))[0] == 403


async def test_keys_are_created_once_with_fixed_uids_and_replaced_when_their_rights_differ(
    master_engine,
) -> None:
    prefix = f"keys_{secrets.token_hex(4)}"
    # An older version's search key with too many rights, under the uid this version uses.
    broad = dict(keys.wanted(prefix, keys.SEARCH), actions=["*"])
    assert (await master_engine.send("POST", "/keys", json=broad))[0] == 201
    try:
        first = await keys.ensure(master_engine, prefix)
        again = await keys.ensure(master_engine, prefix)  # a restart, or a second process
        assert first == again
        listed = (await master_engine.call("GET", "/keys", params={"limit": 1000}))["results"]
        ours = [key for key in listed if key["name"].startswith(f"techex {prefix} ")]
        assert sorted(key["uid"] for key in ours) == sorted(
            keys.key_uid(prefix, role) for role in keys.ACTIONS
        )
        search_key = await master_engine.call("GET", f"/keys/{keys.key_uid(prefix, keys.SEARCH)}")
        assert search_key["actions"] == ["search"] and search_key["indexes"] == [f"{prefix}_*"]
    finally:
        for role in keys.ACTIONS:
            await master_engine.send("DELETE", f"/keys/{keys.key_uid(prefix, role)}")


async def test_a_refused_key_makes_search_unavailable_not_a_bug(settings) -> None:
    """Before its keys are set up (Meilisearch was down at start-up) a search answers 503 and is
    retried, as when Meilisearch is down - not a 500."""
    stranger = Engine(settings.meili_url, "not-a-key-0123456789", prefix=settings.meili_index_prefix)
    try:
        try:
            await stranger.multi_search({"queries": []})
        except SearchUnavailable as exc:
            assert "403" in str(exc)
        else:
            raise AssertionError("Meilisearch took an unknown key")
    finally:
        await stranger.aclose()


async def test_a_search_before_the_indexes_exist_is_unavailable_not_a_bug(settings) -> None:
    """Between start-up and the creation of the indexes a search answered 500 (index_not_found)."""
    engine = Engine.from_settings(settings, master=True)
    try:
        try:
            await engine.multi_search(
                {"queries": [{"indexUid": f"{settings.meili_index_prefix}_not_created_yet", "q": "电池"}]}
            )
        except SearchUnavailable as exc:
            assert "index_not_found" in str(exc)
        else:
            raise AssertionError("a search of a missing index succeeded")
    finally:
        await engine.aclose()
