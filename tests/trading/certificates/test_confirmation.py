"""The deal confirmation (成交确认书) of an auction sold or a listing agreed: who, what, the price and
how the route reached it, for the deal's sides only."""

import io

import httpx
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession

from app.deals.vocabulary import DealStage
from tests.contracts.helpers import assert_fonts_embedded
from tests.deals.factory import deal_at, deal_world
from tests.trading.certificates.factory import agreed_by_listing, sold_by_auction


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).replace("\n", "")


async def test_an_auction_confirmation_states_the_result(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    deal = await sold_by_auction(db, w)
    response = await client.get(f"/api/v1/deals/{deal.id}/confirmation.pdf", headers=w.buyer.headers)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = _text(response.content)
    assert "成交确认书" in text and "拍卖（网络竞价）" in text
    assert w.seller_org.name in text and w.buyer_org.name in text
    assert "¥860,000.00" in text and "捌拾陆万元整" in text
    assert "3 次" in text and "2026-11-20 15:30" in text  # bids, and the close in Beijing time
    assert "4821" in text  # the winner's bidder code
    # The deposit applied to the price, and what remains to pay.
    assert "¥80,000.00" in text and "已抵作价款" in text and "¥780,000.00" in text
    assert_fonts_embedded(response.content)


async def test_a_listing_confirmation_states_the_period(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await deal_world(client, db)
    deal = await agreed_by_listing(db, w)
    response = await client.get(f"/api/v1/deals/{deal.id}/confirmation.pdf", headers=w.broker.headers)
    assert response.status_code == 200
    text = _text(response.content)
    assert "挂牌交易" in text and "¥820,000.00" in text and "¥800,000.00" in text  # price, floor
    assert "2026年9月28日 至 2026年10月20日" in text and "10 个工作日" in text
    assert "许可" in text  # the transfer mode the listing sold


async def test_only_the_deals_sides_and_only_a_route_result(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    deal = await sold_by_auction(db, w)
    url = f"/api/v1/deals/{deal.id}/confirmation.pdf"
    for who in (w.seller, w.admin):
        assert (await client.get(url, headers=who.headers)).status_code == 200
    hidden = await client.get(url, headers=w.outsider.headers)
    assert hidden.status_code == 404 and hidden.json()["code"] == "deal_not_found"
    assert (await client.get(url)).status_code == 401
    # A deal agreed in negotiation has no listing or auction result to confirm.
    other = await deal_at(db, await deal_world(client, db), DealStage.agreed)
    refused = await client.get(f"/api/v1/deals/{other.id}/confirmation.pdf", headers=w.admin.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "no_trading_result"
