"""/publicity/trading: the prices being published, the listings running and the auctions announced
or under way, for anyone, with their ends in Beijing time and nothing of the parties or the reserve."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import time_machine
from sqlalchemy.ext.asyncio import AsyncSession

from app.deals.vocabulary import DealStage
from app.pages.formatting import beijing
from app.trading.vocabulary import AnnouncementStatus, AuctionStatus
from tests.deals.factory import deal_at, deal_world, published_achievement
from tests.trading.test_guards import announcement, auction
from tests.trading.test_publicity import PUBLISHED, again, objected, published


def test_a_period_ending_at_midnight_reads_as_24_00_of_its_last_day() -> None:
    assert beijing(datetime(2027, 3, 16, 16, 0, tzinfo=UTC)) == "2027-03-16 24:00"
    assert beijing(datetime(2027, 3, 16, 2, 30, tzinfo=UTC)) == "2027-03-16 10:30"
    assert beijing(None) == "—"


async def test_the_trading_publicity_page_shows_what_runs_and_nothing_of_the_parties(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await deal_world(client, db)
    _, running = await published(client, db, w)
    w.achievement = await published_achievement(db, w.seller_org, title="一种钙钛矿电池封装工艺")
    _, suspended = await published(client, db, w)
    assert (
        await objected(client, db, w.outsider, suspended["id"], PUBLISHED + timedelta(days=1))
    ).status_code == 201
    w.achievement = await published_achievement(db, w.seller_org, title="一种高通量基因测序芯片")
    listed = await deal_at(db, w, DealStage.negotiating)
    listing = announcement(listed, AnnouncementStatus.running)
    listing.ends_at = datetime(2027, 3, 20, 16, 0, tzinfo=UTC)
    w.achievement = await published_achievement(db, w.seller_org, title="一种工业机器人减速器")
    auctioned = await deal_at(db, w, DealStage.negotiating)
    sale = auction(auctioned, AuctionStatus.running, Decimal("910000.00"))
    sale.reserve_price, sale.ends_at = Decimal("987654.32"), datetime(2027, 3, 2, 7, 0, tzinfo=UTC)
    db.add_all([listing, sale])
    await db.commit()

    with time_machine.travel(PUBLISHED + timedelta(days=2), tick=False):
        page = await client.get("/publicity/trading")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = page.text
    assert '<strong id="publicity-total">2</strong>' in text
    for shown in (
        w.achievement.title,
        "一种高安全性锂电池隔膜的制备方法",
        "¥800,000.00",
        "2027-03-16 24:00",  # the running publicity's end
        "异议处理中",
        f"/api/v1/publicity/pricing/{running['id']}",
        f"/api/v1/listing-announcements/{listing.id}",
        "2027-03-20 24:00",
        f"/api/v1/auctions/{sale.id}",
        "¥910,000.00",
        "2027-03-02 15:00",
    ):
        assert shown in text, shown
    for hidden in ("987,654.32", w.seller_org.name, w.buyer_org.name):
        assert hidden not in text, hidden

    # Anonymous, and the link is in every page's navigation.
    home = await client.get("/publicity")
    assert 'href="/publicity/trading"' in home.text
    signed_in = await again(client, db, w.seller)
    assert (await client.get("/publicity/trading", headers=signed_in.headers)).status_code == 200
