"""Publish → indexed → found, in both scripts."""


async def test_published_achievement_is_found_in_either_script(client, owner, make_listing, indexed) -> None:
    who = await owner("achievements")
    listing = await make_listing(
        "achievements",
        who,
        title="电力电子变换器的数字控制方法",
        description="一种基于数字信号处理器的电力电子变换器控制方法。",
        field="advanced_manufacturing",
    )
    await indexed("achievement", listing["id"])
    for q in ("电力电子", "電力電子"):
        response = await client.get("/api/v1/search", params={"q": q, "types": "achievement"})
        assert response.status_code == 200, response.text
        hits = response.json()["hits"]
        assert [hit["id"] for hit in hits][:1] == [listing["id"]], q
        assert hits[0]["type"] == "achievement"
        assert "<em>" in hits[0]["highlight"]["title"]
