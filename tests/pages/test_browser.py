"""The public pages in a real headless Chromium against the service under uvicorn: each loads
without a console error, asks nothing of another host, fits a 375 px phone, shows the seeded
numbers, and the QR code of a generated certificate leads to its verification page. Screenshots of
every page (375 px and desktop) go to .test-output/screenshots/ for a person to look at."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx
from playwright.async_api import BrowserContext, Page
from sqlalchemy.ext.asyncio import AsyncSession

from app.deals.vocabulary import DealStage
from tests.contracts import helpers
from tests.deals.factory import deal_at, deal_world
from tests.pages.conftest import CONTRACTS, SCREENSHOTS, Seeded

REFERENCING = {"href", "src", "action", "srcset", "xlink:href", "poster", "data", "formaction"}


class References(HTMLParser):
    """Every address the HTML refers to, in attributes and in CSS."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in REFERENCING:
                self.found.append(value)
            if name == "style":
                self.found += re.findall(r"url\(([^)]*)\)", value)

    def handle_data(self, data: str) -> None:
        self.found += re.findall(r"url\(([^)]*)\)", data) + re.findall(r"@import\s+([^;]+)", data)


def own(reference: str) -> bool:
    reference = reference.strip("'\" ")
    return not re.match(r"^([a-z][a-z0-9+.-]*:|//)", reference, re.IGNORECASE)


@dataclass
class Visit:
    page: Page
    html: str
    problems: list[str] = field(default_factory=list)


async def visit(browser: BrowserContext, base: str, path: str, name: str) -> Visit:
    """Load a page, screenshot it at 375 px and 1280 px, and note anything wrong with it."""
    page = await browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.on("request", lambda r: None if r.url.startswith(base) else problems.append(f"foreign: {r.url}"))
    await page.set_viewport_size({"width": 375, "height": 800})
    response = await page.goto(base + path, wait_until="networkidle")
    assert response is not None and response.status == 200, (path, response and response.status)
    html = await response.text()
    parser = References()
    parser.feed(html)
    problems += [f"refers elsewhere: {ref}" for ref in parser.found if not own(ref)]
    overflow = await page.evaluate("document.documentElement.scrollWidth")
    if overflow > 375:
        problems.append(f"wider than the phone: {overflow} px")
    await page.screenshot(path=SCREENSHOTS / f"{name}-375.png", full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.screenshot(path=SCREENSHOTS / f"{name}-1280.png", full_page=True)
    return Visit(page, html, problems)


async def test_the_certificates_qr_code_opens_its_verification_page(
    client: httpx.AsyncClient, db: AsyncSession, live_server: str, browser: BrowserContext
) -> None:
    w = await helpers.world(client, db)
    app = await helpers.registered(client, w, amount="700000.00", project_name="高效钙钛矿电池中试工艺开发")
    number = app["registration_number"]
    async with httpx.AsyncClient(base_url=live_server) as http:
        pdf = await http.get(f"/api/v1/contracts/{app['id']}/certificate", headers=w.applicant.headers)
        public = (await http.get(f"/api/v1/certificates/{number}")).json()
    assert pdf.status_code == 200
    url = helpers.qr_url(pdf.content)
    assert url == f"{live_server}/verify/{number}?version=1"
    seen = await visit(browser, live_server, url.removeprefix(live_server), "verify")
    assert seen.problems == []
    page = seen.page
    assert await page.locator("h2#verdict .word").inner_text() == "有效"
    table = await page.locator("table.facts").inner_text()
    for expected in (number, "高效钙钛矿电池中试工艺开发", "¥1,000,000.00", "¥700,000.00", "技术开发"):
        assert expected in table
    assert await page.locator("#hash").inner_text() == public["certificate_hash"]
    await page.close()

    missing = await browser.new_page()
    await missing.set_viewport_size({"width": 375, "height": 800})
    response = await missing.goto(f"{live_server}/verify/26320101999999")
    assert response is not None and response.status == 404
    assert await missing.locator("h1").inner_text() == "未找到"
    await missing.screenshot(path=SCREENSHOTS / "verify-unknown-375.png", full_page=True)
    await missing.close()


async def test_publicity_and_dashboard_in_a_browser(
    client: httpx.AsyncClient, seeded: Seeded, live_server: str, browser: BrowserContext, signed_in: Any
) -> None:
    seen = await visit(browser, live_server, "/publicity", "publicity")
    assert seen.problems == []
    assert await seen.page.locator("#total").inner_text() == str(len(CONTRACTS))
    assert await seen.page.locator("table.data tbody tr").count() == len(CONTRACTS)
    # The form, as a person uses it: choose a type, submit.
    await seen.page.select_option("#type", "development")
    await seen.page.click("button[type=submit]")
    await seen.page.wait_for_load_state("networkidle")
    assert "type=development" in seen.page.url
    assert await seen.page.locator("#total").inner_text() == "2"
    await seen.page.close()

    reader = await signed_in()
    progress = (
        await client.get(f"/api/v1/targets/{seeded.target_id}/progress", headers=reader.headers)
    ).json()
    query = f"/dashboard?from={seeded.since}&to={seeded.until}"
    seen = await visit(browser, live_server, query, "dashboard")
    assert seen.problems == []
    page = seen.page
    assert await page.locator(".percentage").inner_text() == f"{progress['percentage']}%"
    assert f"{float(progress['achieved']):,.2f}" in await page.locator(".figures").inner_text()
    assert await page.locator("figure.chart svg").count() == 4
    city = await page.locator('table[data-group="city"]').inner_text()
    assert "南京市" in city and "苏州市" in city and "南昌市" in city
    await page.close()


async def test_achievements_and_demands_in_a_browser(
    live_server: str, browser: BrowserContext, owner: Any, make_listing: Any, indexed: Any, app: Any
) -> None:
    university = await owner("achievements")
    company = await owner("demands")
    achievement = await make_listing(
        "achievements",
        university,
        title="钙钛矿叠层太阳能电池<b>中试</b>",
        description="钙钛矿与晶硅叠层，效率 30%。",
        field="new_energy",
    )
    demand = await make_listing(
        "demands", company, title="钙钛矿组件封装工艺", description="求钙钛矿组件的封装方案。"
    )
    await indexed("achievement", achievement["id"])
    await indexed("demand", demand["id"])

    seen = await visit(browser, live_server, "/achievements?q=钙钛矿", "achievements")
    assert seen.problems == []
    title = seen.page.locator("article.hit h3").first
    assert await title.inner_text() == "钙钛矿叠层太阳能电池<b>中试</b>"  # the typed markup, as text
    assert await title.locator("em").first.inner_text() == "钙钛矿"
    assert "新能源与高效节能" in await seen.page.locator("aside.facets").inner_text()
    await seen.page.close()

    seen = await visit(browser, live_server, "/demands?q=钙钛矿", "demands")
    assert seen.problems == []
    assert await seen.page.locator("#total").inner_text() == "1"
    assert await seen.page.locator("article.hit h3 em").first.inner_text() == "钙钛矿"
    await seen.page.close()


async def test_trading_publicity_in_a_browser(
    client: httpx.AsyncClient, db: AsyncSession, live_server: str, browser: BrowserContext
) -> None:
    w = await deal_world(client, db)
    deal = await deal_at(db, w, DealStage.agreed, priced=False)
    published = await client.post(
        f"/api/v1/deals/{deal.id}/pricing-publicity", json={}, headers=w.seller.headers
    )
    assert published.status_code == 201, published.text
    seen = await visit(browser, live_server, "/publicity/trading", "trading-publicity")
    assert seen.problems == []
    assert await seen.page.locator("#publicity-total").inner_text() == "1"
    row = await seen.page.locator("#publicities tbody tr").inner_text()
    assert w.achievement.title in row and "¥800,000.00" in row and "24:00" in row
    await seen.page.close()
