"""`techex reindex` and `techex search-check` (their functions, on the test run's database and index)."""

from sqlalchemy import func, select

from app.outbox.models import OutboxMessage
from search import documents
from search import reindex as rebuilding
from search.indexer import TOPIC
from tests.search.conftest import document, wait_for


async def test_check_finds_drift_and_reindex_repairs_it(
    app, client, db, engine, master_engine, owner, make_listing, indexed
) -> None:
    who = await owner("achievements")
    kept = await make_listing("achievements", who, title="索引中保留的成果")
    lost = await make_listing("achievements", who, title="从索引中丢失的成果")
    behind = await make_listing("achievements", who, title="索引落后一个版本的成果")
    old_format = await make_listing("achievements", who, title="旧版文本处理的成果")
    for listing in (kept, lost, behind, old_format):
        await indexed("achievement", listing["id"])

    # Each listing's create and publish are two messages, each sending the document without its
    # vector, then whole: stopping the relay between the two would leave one without its vector.
    async def relay_idle() -> bool:
        pending = select(func.count()).where(OutboxMessage.topic == TOPIC)
        return await db.scalar(pending.where(OutboxMessage.processed_at.is_(None))) == 0

    await wait_for(relay_idle)
    await app.state.background.stop()  # keep the relay from repairing it before we look
    try:
        await engine.wait(await engine.delete(engine.index("achievement"), [lost["id"]]))
        stray = dict(
            await indexed("achievement", kept["id"]),
            id="00000000-0000-0000-0000-000000000001",
            version=1,
            _vectors={"lex": None},
        )
        # An update the index missed, and a document made before a normalisation change (no format
        # stamp, as every document indexed before the stamp existed).
        older = dict(await indexed("achievement", behind["id"]), version=behind["version"] - 1)
        unstamped = await indexed("achievement", old_format["id"])
        del unstamped["text_format"]
        older["_vectors"] = unstamped["_vectors"] = {"lex": None}
        for doc in (stray, older, unstamped):
            await engine.wait(await engine.upsert(engine.index("achievement"), [doc]))
        report = await rebuilding.check(app.state.database, master_engine)
        assert report.missing["achievement"] == [lost["id"]]
        assert report.extra["achievement"] == [stray["id"]]
        assert report.stale["achievement"] == sorted([behind["id"], old_format["id"]])
        assert not report.clean
        counts = await rebuilding.reindex(app.state.database, master_engine)
        assert counts["achievement"] == 4
        assert (await rebuilding.check(app.state.database, master_engine)).clean
        assert await document(engine, "achievement", lost["id"]) is not None
        restamped = await document(engine, "achievement", old_format["id"])
        assert restamped is not None and restamped["text_format"] == documents.TEXT_FORMAT
        assert await document(engine, "achievement", stray["id"]) is None
        response = await client.get("/api/v1/search", params={"q": "丢失的成果", "types": "achievement"})
        assert response.json()["hits"][0]["id"] == lost["id"]
    finally:
        from app.matching.worker import Background

        app.state.background = Background(app.state.database, app.state.engines, app.state.settings)
        app.state.background.start()
