"""What enters the index: published listings only, public fields only (read back from Meilisearch)."""

import json
import uuid

from search import lexical
from search import settings as index_settings
from search.engine import Engine
from search.indexer import sync_listings
from tests.search.conftest import document, wait_for

SECRET_PHONE = "13812345678"
SECRET_MAIL = "secret-contact@example.cn"
CONTACTS = [{"name": "李联系", "phone": SECRET_PHONE, "email": SECRET_MAIL}]


async def test_documents_hold_public_fields_only(owner, make_listing, indexed) -> None:
    achievement = await make_listing(
        "achievements", await owner("achievements"), contacts=CONTACTS, asking_price="1200000.00", maturity=7
    )
    demand = await make_listing(
        "demands", await owner("demands"), contacts=CONTACTS, confidential=True, budget_max="500000.00"
    )
    expert = await make_listing("experts", await owner("experts"), phone=SECRET_PHONE, email=SECRET_MAIL)
    agency = await make_listing("agencies", await owner("agencies"), contacts=CONTACTS)
    docs = {
        "achievement": await indexed("achievement", achievement["id"]),
        "demand": await indexed("demand", demand["id"]),
        "expert": await indexed("expert", expert["id"]),
        "agency": await indexed("agency", agency["id"]),
    }
    for kind, doc in docs.items():
        raw = json.dumps(doc, ensure_ascii=False)
        assert SECRET_PHONE not in raw and SECRET_MAIL not in raw and "李联系" not in raw, kind
        assert not {"contacts", "phone", "email", "status_reason", "created_by_id", "user_id"} & set(doc), (
            kind
        )
        assert doc["type"] == kind
    # A confidential demand hides its company from the public, so from the index too.
    assert "owner_organization_id" not in docs["demand"]
    assert docs["demand"]["organization"] == ""
    assert docs["achievement"]["asking_price"] == 1200000.0 and docs["achievement"]["maturity"] == 7
    assert docs["achievement"]["regions"] == [] or len(docs["achievement"]["regions"]) <= 3


async def test_drafts_are_never_indexed_and_closing_removes(
    client, engine: Engine, owner, make_listing, indexed
) -> None:
    who = await owner("achievements")
    draft = await make_listing("achievements", who, publish=False, title="未发布的草稿成果")
    published = await make_listing("achievements", who, title="已发布的成果")
    await indexed("achievement", published["id"])
    assert await document(engine, "achievement", draft["id"]) is None
    response = await client.post(f"/api/v1/achievements/{published['id']}/close", headers=who.headers)
    assert response.status_code == 200, response.text

    async def gone() -> bool:
        return await document(engine, "achievement", published["id"]) is None

    await wait_for(gone)


async def test_edits_reach_the_index(client, owner, make_listing, indexed) -> None:
    who = await owner("achievements")
    listing = await make_listing("achievements", who, title="旧标题的成果")
    await indexed("achievement", listing["id"])
    response = await client.patch(
        f"/api/v1/achievements/{listing['id']}",
        json={"title": "新標題的成果", "version": listing["version"]},
        headers=who.headers,
    )
    assert response.status_code == 200, response.text
    doc = await indexed("achievement", listing["id"], version=response.json()["version"])
    assert doc["display_title"] == "新標題的成果"
    assert doc["title"] == "新标题的成果"  # indexed text is normalised to simplified script


async def test_every_index_holds_the_settings_in_code_and_setup_is_idempotent(engine: Engine) -> None:
    await engine.setup()  # a second time (the fixture ran it): no task fails, nothing changes
    wanted = index_settings.index_settings()
    for kind in index_settings.KINDS:
        found = await engine.call("GET", f"/indexes/{engine.index(kind)}/settings")
        for name in ("searchableAttributes", "rankingRules", "facetSearch"):
            assert found[name] == wanted[name], (kind, name)
        for name in ("filterableAttributes", "sortableAttributes", "stopWords"):  # answered sorted
            assert sorted(found[name]) == sorted(wanted[name]), (kind, name)
        assert found["synonyms"]["人工智能"] == wanted["synonyms"]["人工智能"], kind
        assert found["embedders"][lexical.EMBEDDER]["dimensions"] == lexical.DIMENSIONS, kind


async def test_a_document_is_searchable_before_its_vector_is_sent(
    db, engine: Engine, owner, make_listing, indexed, monkeypatch
) -> None:
    """The relay sends a document without its vector and waits for that task before it sends the
    whole document: at the first step the listing is already found by keyword."""
    listing = await make_listing("achievements", await owner("achievements"), title="分两步索引的钙钛矿成果")
    await indexed("achievement", listing["id"])
    uid = engine.index("achievement")
    await engine.wait(await engine.delete(uid, [listing["id"]]))
    steps: list[tuple[bool, bool]] = []
    wait = engine.wait

    async def watched(task, *, timeout: float = 60.0):  # type: ignore[no-untyped-def]  # noqa: ASYNC109
        state = await wait(task, timeout=timeout)
        doc = await document(engine, "achievement", listing["id"], vectors=True)
        hits = (await engine.call("POST", f"/indexes/{uid}/search", json={"q": "钙钛矿"}))["hits"]
        assert doc is not None
        steps.append(
            (bool(doc["_vectors"][lexical.EMBEDDER]["embeddings"]), listing["id"] in {h["id"] for h in hits})
        )
        return state

    monkeypatch.setattr(engine, "wait", watched)
    await sync_listings(db, engine, "achievement", [uuid.UUID(listing["id"])])
    await db.rollback()
    assert steps == [(False, True), (True, True)]
