"""Writing confidential details, approving disclosure and undertaking through the API, for the
tests (`who` is anyone signed in: a `Person` or a `SignedIn`)."""

from typing import Any

import httpx

from app.confidential import undertaking


def details_url(listing_id: object, kind: str = "achievements") -> str:
    return f"/api/v1/{kind}/{listing_id}/confidential"


async def write(
    client: httpx.AsyncClient, who: Any, listing_id: object, text: str, kind: str = "achievements"
) -> dict[str, Any]:
    response = await client.put(details_url(listing_id, kind), json={"text": text}, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def approve(
    client: httpx.AsyncClient, who: Any, deal_id: object, listing_id: object, kind: str = "achievement"
) -> httpx.Response:
    return await client.post(
        f"/api/v1/deals/{deal_id}/disclosures",
        json={"listing_kind": kind, "listing_id": str(listing_id)},
        headers=who.headers,
    )


async def undertake(
    client: httpx.AsyncClient,
    who: Any,
    deal_id: object,
    listing_id: object,
    version: int,
    kind: str = "achievement",
) -> httpx.Response:
    return await client.post(
        f"/api/v1/deals/{deal_id}/undertakings",
        json={
            "listing_kind": kind,
            "listing_id": str(listing_id),
            "details_version": version,
            "text_version": undertaking.TEXT_VERSION,
        },
        headers=who.headers,
    )
