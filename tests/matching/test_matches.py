"""GET /api/v1/{demands,achievements}/{id}/matches: ranking, explanations, visibility."""

from app.accounts.models import OrganizationKind, Role


async def _catalogue(owner, make_listing, indexed):
    uni = await owner("achievements")
    ent = await owner("demands")
    good = await make_listing(
        "achievements",
        uni,
        title="锂电池极片涂布缺陷视觉检测系统",
        description="基于机器视觉的锂电池极片涂布缺陷在线检测，识别划痕、漏涂和气泡。",
        field="new_energy",
        maturity=7,
        asking_price="400000.00",
        region_code="320102",
    )
    other = await make_listing(
        "achievements",
        uni,
        title="水稻抗倒伏栽培方法",
        description="通过调控株型提高水稻抗倒伏能力。",
        field="agriculture",
    )
    demand = await make_listing(
        "demands",
        ent,
        title="锂电池极片涂布缺陷在线检测",
        description="需要在线检测锂电池极片涂布缺陷，如漏涂、划痕。",
        field="new_energy",
        budget_max="500000.00",
        region_code="320105",
    )
    for kind, listing in (("achievement", good), ("achievement", other), ("demand", demand)):
        await indexed(kind, listing["id"])
    return uni, ent, good, other, demand


async def test_demand_matches_are_ranked_and_explained(client, owner, make_listing, indexed) -> None:
    _, _, good, other, demand = await _catalogue(owner, make_listing, indexed)
    response = await client.get(f"/api/v1/demands/{demand['id']}/matches", params={"types": "achievement"})
    assert response.status_code == 200, response.text
    matches = response.json()["matches"]
    assert matches[0]["id"] == good["id"]
    assert other["id"] not in [m["id"] for m in matches[:1]]
    why = " ".join(matches[0]["explanation"])
    assert "共同技术词" in why and "同属领域" in why and "预算" in why and "同一地区" in why
    assert 0 < matches[0]["score"] <= 1
    # And the other way round.
    back = await client.get(f"/api/v1/achievements/{good['id']}/matches", params={"types": "demand"})
    assert back.status_code == 200
    assert back.json()["matches"][0]["id"] == demand["id"]


async def test_matches_of_a_draft_only_for_whoever_reads_the_draft(
    client, owner, make_listing, indexed, signed_in
) -> None:
    """One rule for drafts everywhere: the owning organization and administrators. A technology
    manager of another organization got the draft's title and matches while the draft itself
    answered 404."""
    ent = await owner("demands")
    draft = await make_listing("demands", ent, publish=False, title="未公开的涂布检测需求")
    url = f"/api/v1/demands/{draft['id']}/matches"
    assert (await client.get(url)).status_code == 404
    stranger = await signed_in(role=Role.member, kind=OrganizationKind.enterprise)
    broker = await signed_in(role=Role.tech_manager)
    for outsider in (stranger, broker):
        listing = await client.get(f"/api/v1/demands/{draft['id']}", headers=outsider.headers)
        refused = await client.get(url, headers=outsider.headers)
        assert listing.status_code == refused.status_code == 404, refused.text
        assert refused.json()["code"] == "listing_not_found"
        assert "涂布" not in refused.text
    for who in (ent, await signed_in(role=Role.admin)):
        response = await client.get(url, headers=who.headers)
        assert response.status_code == 200, response.text
        assert response.json()["listing"]["id"] == draft["id"]
    published = await client.post(f"/api/v1/demands/{draft['id']}/publish", headers=ent.headers)
    assert published.status_code == 200, published.text
    assert (await client.get(url, headers=broker.headers)).status_code == 200


async def test_wrong_counterpart_type_is_rejected(client, owner, make_listing) -> None:
    demand = await make_listing("demands", await owner("demands"))
    response = await client.get(f"/api/v1/demands/{demand['id']}/matches", params={"types": "demand"})
    assert response.status_code == 422
    (error,) = response.json()["errors"]
    # Names the field, what was wrong and what is allowed, in the language asked for.
    assert error["field"] == "types"
    assert error["message"] == "未知类型：demand；可选：achievement、expert、agency"
    url = f"/api/v1/demands/{demand['id']}/matches"
    english = await client.get(url, params={"types": "demand"}, headers={"Accept-Language": "en"})
    (error,) = english.json()["errors"]
    assert error["message"] == "unknown types: demand; allowed: achievement, expert, agency"


async def test_content_comes_first_and_business_signals_alone_make_no_match(
    client, owner, make_listing, indexed
) -> None:
    """A listing sharing no term with the demand is no match, however well its field, province,
    price and maturity fit (they once outweighed any content: a reducer demand's first match was a
    flame retardant); a related one leads even with none of those."""
    uni = await owner("achievements")
    ent = await owner("demands")
    related = await make_listing(
        "achievements",
        uni,
        title="多级行星减速器设计系统",
        description="行星减速器的参数化设计与回差分析。",
        field="agriculture",
    )
    stranger = await make_listing(
        "achievements",
        uni,
        title="棉织物用新型阻燃剂的合成技术",
        # Shares only words too common to be the demand's terms (技术, 工业, 提高).
        description="合成一种含磷阻燃剂用于棉织物整理，提高阻燃性能，已工业化生产。",
        field="advanced_manufacturing",
        maturity=8,
        asking_price="1000000.00",
        region_code="320102",
    )
    demand = await make_listing(
        "demands",
        ent,
        title="工业机器人减速器精度保持技术",
        description="机器人关节减速器运行后回差增大，需要提高减速器的精度保持性。",
        field="advanced_manufacturing",
        budget_max="3000000.00",
        region_code="320105",
    )
    for kind, listing in (("achievement", related), ("achievement", stranger), ("demand", demand)):
        await indexed(kind, listing["id"])
    response = await client.get(f"/api/v1/demands/{demand['id']}/matches", params={"types": "achievement"})
    assert response.status_code == 200, response.text
    matches = response.json()["matches"]
    assert [m["id"] for m in matches] == [related["id"]]
    assert (
        matches[0]["explanation"][0].startswith("共同技术词：") and "减速器" in matches[0]["explanation"][0]
    )
