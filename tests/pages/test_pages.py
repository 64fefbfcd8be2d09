"""The public pages as HTML over HTTP: what each says, its numbers equal to the API's, its errors
as pages in Chinese, and user text escaped. The same pages in a real browser: test_browser.py."""

import hashlib
import html
import re
from datetime import timedelta
from decimal import Decimal

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.types import today_in_china
from app.deals.vocabulary import DealStage
from app.pages.service import PAGE_SIZE
from tests.contracts import helpers
from tests.contracts.helpers import step
from tests.deals.factory import deal_at
from tests.pages.conftest import CONTRACTS, Seeded
from tests.search.conftest import wait_for
from tests.stats import factory
from tests.trading.certificates import factory as trading


def verdict(page: httpx.Response) -> str:
    found = re.search(r'<span class="word">(.*?)</span>', page.text)
    assert found, page.text
    return found.group(1)


def is_html(response: httpx.Response) -> bool:
    return response.headers["content-type"].startswith("text/html")


async def test_verify_states_each_status_in_words(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await helpers.world(client, db)
    app = await helpers.registered(client, w, amount="700000.00")
    number = app["registration_number"]
    page = await client.get(f"/verify/{number}")
    assert page.status_code == 200 and is_html(page) and verdict(page) == "有效"
    assert '<html lang="zh-CN">' in page.text and "¥1,000,000.00" in page.text and "¥700,000.00" in page.text
    # The hash and the line it is computed from: anyone can check one against the other.
    public = (await client.get(f"/api/v1/certificates/{number}")).json()
    canonical = html.unescape(re.search(r'<pre class="canonical"><code>(.*?)</code>', page.text).group(1))
    assert canonical == public["canonical"]
    assert hashlib.sha256(canonical.encode()).hexdigest() == public["certificate_hash"] in page.text
    assert "sha256sum" in page.text

    await step(
        client,
        w.officer,
        app["id"],
        "amend",
        {"contract_amount": "1200000.00", "technology_amount": "900000.00", "reason": "补充协议"},
    )
    assert verdict(await client.get(f"/verify/{number}")) == "已变更"
    old = await client.get(f"/verify/{number}?version=1")
    assert verdict(old) == "已被新版本取代" and "第 1 版证明" in old.text and "¥1,200,000.00" in old.text
    await step(client, w.officer, app["id"], "cancel", {"reason": "合同解除"})
    assert verdict(await client.get(f"/verify/{number}")) == "已注销"
    # A cancelled registration is not "superseded" whatever version the printout says.
    assert verdict(await client.get(f"/verify/{number}?version=1")) == "已注销"

    other = await helpers.registered(client, w)
    await step(client, w.applicant, other["id"], "object", {"reason": "认定金额过低"})
    assert verdict(await client.get(f"/verify/{other['registration_number']}")) == "异议复核中"
    await step(client, w.officer, other["id"], "reopen", {"comment": "受理异议"})
    await step(client, w.officer, other["id"], "refuse", {"reason": "复核认定不属于技术合同"})
    assert verdict(await client.get(f"/verify/{other['registration_number']}")) == "已撤销"


async def test_unknown_numbers_and_bad_versions_answer_a_page_in_chinese(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await helpers.world(client, db)
    number = (await helpers.registered(client, w))["registration_number"]
    for path in ("/verify/26320101999999", "/verify/abc", f"/verify/{number}?version=2"):
        page = await client.get(path)
        assert page.status_code == 404 and is_html(page), path
        assert "<h1>未找到</h1>" in page.text and '<html lang="zh-CN">' in page.text
    bad = await client.get(f"/verify/{number}?version=x")
    assert bad.status_code == 400 and is_html(bad) and "version" in bad.text
    # The JSON verification stays as it was.
    assert (await client.get("/api/v1/certificates/26320101999999")).json()["code"] == "certificate_not_found"


async def test_user_text_is_escaped_on_the_pages(client: httpx.AsyncClient, db: AsyncSession) -> None:
    w = await helpers.world(client, db)
    name = "<script>alert(1)</script>项目 & 'x'"
    number = (await helpers.registered(client, w, project_name=name))["registration_number"]
    for path in (f"/verify/{number}", "/publicity"):
        text = (await client.get(path)).text
        assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;项目 &amp;" in text


async def test_trade_verification_says_valid_or_revoked_and_escapes_the_deals_title(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    w = await trading.enterprise_world(client, db)
    deal = await deal_at(db, w, DealStage.signed)
    deal.title = "<script>alert(1)</script>项目 & 'x'"
    await db.commit()
    number = (await trading.issue(client, w.admin, deal.id)).json()["number"]
    page = await client.get(f"/verify/trade/{number}")
    assert page.status_code == 200 and is_html(page) and verdict(page) == "有效"
    assert "<script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;项目 &amp;" in page.text
    assert "¥800,000.00" in page.text and w.seller_org.name in page.text
    public = (await client.get(f"/api/v1/transaction-certificates/{number}/verification")).json()
    assert public["content_hash"] in page.text
    await client.post(
        f"/api/v1/transaction-certificates/{number}/revocation",
        json={"ground": "procedure_broken", "reason": "挂牌期不足法定工作日。"},
        headers=w.admin.headers,
    )
    revoked = await client.get(f"/verify/trade/{number}")
    assert (
        verdict(revoked) == "已撤销"
        and "交易程序违规" in revoked.text
        and "挂牌期不足法定工作日。" in revoked.text
    )
    for path in ("/verify/trade/JY-2026-999999", "/verify/trade/abc"):
        missing = await client.get(path)
        assert missing.status_code == 404 and is_html(missing) and "<h1>未找到</h1>" in missing.text


async def test_verify_hides_amounts_when_publicity_does(
    client: httpx.AsyncClient, db: AsyncSession, app: FastAPI
) -> None:
    w = await helpers.world(client, db)
    number = (await helpers.registered(client, w))["registration_number"]
    app.state.settings.publicity_shows_amounts = False
    try:
        page = await client.get(f"/verify/{number}")
        listing = await client.get("/publicity")
    finally:
        app.state.settings.publicity_shows_amounts = True
    assert "1,000,000.00" not in page.text and "1000000.00" not in page.text
    assert "〔证明上的合同成交额〕" in page.text and "不公开金额" in page.text
    assert "1,000,000.00" not in listing.text and number in listing.text


async def test_publicity_filters_and_pages_like_the_api(
    client: httpx.AsyncClient, seeded: Seeded, app: FastAPI
) -> None:
    def total(page: httpx.Response) -> int:
        return int(re.search(r'<strong id="total">(\d+)</strong>', page.text).group(1))

    everything = await client.get("/publicity")
    assert everything.status_code == 200 and total(everything) == len(CONTRACTS)
    assert '<option value="3201">南京市</option>' in everything.text
    cases = [
        ({"city": "3201"}, {"region": "3201"}),
        ({"type": "development"}, {"type": "development"}),
        ({"from": str(seeded.until.replace(day=1)), "to": str(seeded.until)}, None),
        ({"city": "3205", "type": "service"}, {"region": "3205", "type": "service"}),
        ({"city": "", "type": "", "from": "", "to": ""}, {}),  # the form's "all"
    ]
    for params, api_params in cases:
        page = await client.get("/publicity", params=params)
        api = (
            await client.get(
                "/api/v1/publicity/contracts",
                params=api_params if api_params is not None else {"from": params["from"], "to": params["to"]},
            )
        ).json()
        assert page.status_code == 200 and total(page) == api["total"], params
        for item in api["items"]:
            assert item["registration_number"] in page.text
    assert total(await client.get("/publicity", params={"type": "development"})) == 2
    api = (await client.get("/api/v1/publicity/contracts", params={"type": "development"})).json()
    assert api["total"] == 2 and {i["contract_type"] for i in api["items"]} == {"development"}
    past = await client.get("/publicity", params={"page": 2})
    assert past.status_code == 200 and "没有符合条件的登记" in past.text
    bad = await client.get("/publicity", params={"city": "南京", "from": "2026-13-01"})
    assert bad.status_code == 400 and is_html(bad) and "city" in bad.text and "from" in bad.text


async def test_dashboard_shows_the_apis_numbers(client: httpx.AsyncClient, seeded: Seeded, signed_in) -> None:  # type: ignore[no-untyped-def]
    reader = await signed_in()
    progress = (
        await client.get(f"/api/v1/targets/{seeded.target_id}/progress", headers=reader.headers)
    ).json()
    page = await client.get("/dashboard", params={"from": str(seeded.since), "to": str(seeded.until)})
    assert page.status_code == 200 and is_html(page)
    text = page.text
    achieved = Decimal(progress["achieved"])
    assert achieved == sum(Decimal(c[4]) for c in CONTRACTS if c[0].startswith("32"))
    assert f"¥{achieved:,.2f} 元" in text
    assert f'<span class="big percentage">{progress["percentage"]}%</span>' in text
    assert f"¥{Decimal(progress['run_rate_per_day']):,.2f} 元/天" in text
    assert progress["projected_date"] is None or progress["projected_date"] in text
    assert ("正常" if progress["on_track"] else "落后") in text
    assert text.count("<svg ") >= 4  # the target's chart and three breakdowns, inline
    for group_by in ("city", "field", "type"):
        stats = (
            await client.get(
                "/api/v1/stats/contracts",
                params={"group_by": group_by, "from": str(seeded.since), "to": str(seeded.until)},
                headers=reader.headers,
            )
        ).json()
        table = re.search(rf'data-group="{group_by}">(.*?)</table>', text, re.DOTALL).group(1)
        for group in stats["groups"]:
            assert group["label"] in table
            assert f"¥{Decimal(group['technology_amount']):,.2f}" in table
        assert f"¥{Decimal(stats['total']['contract_amount']):,.2f}" in table


async def test_dashboard_defaults_to_this_year_and_refuses_bad_dates(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    page = await client.get("/dashboard")
    today = today_in_china()
    assert page.status_code == 200 and "尚未设定目标" in page.text
    assert f'value="{today.replace(month=1, day=1)}"' in page.text and f'value="{today}"' in page.text
    bad = await client.get("/dashboard", params={"from": "1900-01-01"})
    assert bad.status_code == 400 and is_html(bad)


async def test_publicity_pages_by_links_keeping_the_filters(
    client: httpx.AsyncClient, db: AsyncSession, settings, app: FastAPI
) -> None:  # type: ignore[no-untyped-def]
    s = await factory.setup(db)
    on = today_in_china() - timedelta(days=1)
    for _ in range(PAGE_SIZE + 1):
        await factory.register(
            db,
            s,
            settings,
            region="320102",
            on=on,
            contract_amount=Decimal(1000),
            technology_amount=Decimal(900),
        )
    first = await client.get("/publicity", params={"city": "3201", "type": "development"})
    assert first.text.count('<td class="number">') == PAGE_SIZE
    link = re.search(r'<a href="\?([^"]*)" rel="next">下一页</a>', first.text)
    assert link and html.unescape(link.group(1)) == "city=3201&type=development&page=2"
    second = await client.get(f"/publicity?{html.unescape(link.group(1))}")
    assert second.text.count('<td class="number">') == 1 and 'rel="prev"' in second.text
    assert '<span aria-current="page">2</span>' in second.text


async def test_search_pages_refuse_bad_parameters_with_a_page(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    for path, name in (
        ("/achievements?field=nonsense", "field"),
        ("/demands?page=47", "page"),  # past the search API's offset bound
        ("/achievements?region=32", "region"),
    ):
        page = await client.get(path)
        assert page.status_code == 400 and is_html(page) and name in page.text, path
    # The form's "all" sends empty values: no filter (once start-up has created the indexes).
    await wait_for(lambda: _answers(client, "/api/v1/search?types=demand"))
    assert (await client.get("/demands?field=&region=")).status_code == 200


async def _answers(client: httpx.AsyncClient, path: str) -> bool:
    return (await client.get(path)).status_code == 200
