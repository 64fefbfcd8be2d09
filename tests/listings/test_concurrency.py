"""Two edits of the same version at once: one wins, the other is refused, nothing is overwritten."""

import asyncio

import pytest
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.listings.models import Achievement


async def test_concurrent_edits_with_the_same_etag(client, db, owner, make_listing):
    who = await owner("achievements")
    listing = await make_listing("achievements", who)
    url = f"/api/v1/achievements/{listing['id']}"
    etag = (await client.get(url)).headers["ETag"]
    headers = {**who.headers, "If-Match": etag}
    first, second = await asyncio.gather(
        client.patch(url, json={"title": "甲的修改"}, headers=headers),
        client.patch(url, json={"title": "乙的修改"}, headers=headers),
    )
    statuses = sorted([first.status_code, second.status_code])
    assert statuses == [200, 412], (first.text, second.text)
    winner = first if first.status_code == 200 else second
    loser = second if winner is first else first
    assert loser.json()["code"] == "precondition_failed"
    stored = (await db.execute(select(Achievement).where(Achievement.id == winner.json()["id"]))).scalar_one()
    assert stored.title == winner.json()["title"]
    assert stored.version == int(etag.strip('"')) + 1
    updates = (await db.execute(select(AuditEntry).where(AuditEntry.action == "updated"))).scalars().all()
    assert len(updates) == 1


async def test_stale_version_in_the_body_is_a_conflict(client, db, owner, make_listing):
    who = await owner("demands")
    listing = await make_listing("demands", who)
    url = f"/api/v1/demands/{listing['id']}"
    ok = await client.patch(
        url, json={"title": "第一次修改", "version": listing["version"]}, headers=who.headers
    )
    assert ok.status_code == 200 and ok.json()["version"] == listing["version"] + 1
    stale = await client.patch(
        url, json={"title": "基于旧版本的修改", "version": listing["version"]}, headers=who.headers
    )
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["field"] == "version"
    assert (await client.get(url)).json()["title"] == "第一次修改"


async def test_concurrent_publish_and_close_cannot_both_win(client, owner, make_listing):
    who = await owner("agencies")
    listing = await make_listing("agencies", who)
    url = f"/api/v1/agencies/{listing['id']}"
    results = await asyncio.gather(*(client.post(f"{url}/close", headers=who.headers) for _ in range(3)))
    assert sorted(r.status_code for r in results) == [200, 409, 409]
    assert (await client.get(url, headers=who.headers)).json()["version"] == listing["version"] + 1


@pytest.mark.parametrize("if_match", ['"99"', 'W/"99"', "99"])
async def test_if_match_forms(client, owner, make_listing, if_match):
    who = await owner("experts")
    listing = await make_listing("experts", who)
    response = await client.patch(
        f"/api/v1/experts/{listing['id']}",
        json={"institution": "东南大学"},
        headers={**who.headers, "If-Match": if_match},
    )
    assert response.status_code == 412


async def test_malformed_if_match_names_the_header(client, owner, make_listing):
    who = await owner("experts")
    listing = await make_listing("experts", who)
    response = await client.patch(
        f"/api/v1/experts/{listing['id']}",
        json={"institution": "东南大学"},
        headers={**who.headers, "If-Match": "abc"},
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "If-Match"
