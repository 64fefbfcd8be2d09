"""GET /api/v1/search: scripts, synonyms, kinds, facets, filters, highlights."""

import html
import itertools
import re

import pytest

from app.matching import search as searching
from search import lexical
from search.normalize import normalize, tokens
from tests.search.conftest import AIDS_SURVEY, MINIMAL


@pytest.fixture
async def catalogue(owner, make_listing, indexed):
    uni = await owner("achievements")
    ent = await owner("demands")
    made = {
        "grid": await make_listing(
            "achievements",
            uni,
            title="智能电网负荷预测方法",
            description="基于深度学习的智能电网短期负荷预测。",
            field="new_energy",
            maturity=7,
            asking_price="300000.00",
            transfer_modes=["license_ordinary"],
            region_code="320102",
        ),
        "ai": await make_listing(
            "achievements",
            uni,
            title="人工智能辅助的病理切片诊断",
            description="利用人工智能识别病理切片中的癌变区域。",
            field="biomedicine",
            maturity=4,
            asking_price="2000000.00",
            transfer_modes=["transfer"],
            region_code="440306",
        ),
        "graphene": await make_listing(
            "achievements",
            uni,
            title="石墨烯导热膜的制备",
            description="一种高导热石墨烯薄膜的低成本制备工艺。",
            field="new_materials",
            maturity=6,
            region_code="320508",
        ),
        "power": await make_listing(
            "achievements",
            uni,
            title="電力電子變換器的數字控制",
            description="採用數字信號處理器控制電力電子變換器。",
            field="advanced_manufacturing",
            maturity=5,
        ),
        "demand": await make_listing(
            "demands",
            ent,
            title="需要石墨烯散热方案",
            description="手机散热需要石墨烯导热材料。",
            field="new_materials",
            region_code="320102",
        ),
    }
    for key, listing in made.items():
        await indexed("demand" if key == "demand" else "achievement", listing["id"])
    return {key: listing["id"] for key, listing in made.items()}


async def _search(client, **params):
    response = await client.get("/api/v1/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def test_script_variants_match_both_ways(client, catalogue) -> None:
    for q, key in (
        ("电力电子", "power"),
        ("電力電子", "power"),
        ("智慧型電網", "grid"),
        ("智能电网", "grid"),
        ("石墨烯導熱", "graphene"),
    ):
        body = await _search(client, q=q, types="achievement")
        assert body["hits"] and body["hits"][0]["id"] == catalogue[key], q


async def test_full_width_letters_and_digits_match_half_width(client, owner, make_listing, indexed) -> None:
    """Chinese input methods type letters and digits in full width (ＡＩ, ５Ｇ); either width finds
    the other, on the keyword side as on the vector side."""
    uni = await owner("achievements")
    led = await make_listing("achievements", uni, title="ＬＥＤ照明驱动电源", description="ＬＥＤ恒流驱动。")
    chip = await make_listing("achievements", uni, title="面向5G通信的射频芯片", description="5G射频前端。")
    for listing in (led, chip):
        await indexed("achievement", listing["id"])
    for q, listing in (("LED", led), ("led", led), ("ＬＥＤ", led), ("５Ｇ", chip), ("5G", chip)):
        body = await _search(client, q=q, types="achievement")
        assert body["hits"] and body["hits"][0]["id"] == listing["id"], q
        assert body["hits"][0]["title"] == listing["title"], q  # shown as written


def _colliding_token(text: str) -> str:
    """A Latin word that appears in no listing but shares the hash slot and sign of one of
    `text`'s tokens: the vector side alone scores the listing above a stranger's 0.5."""
    taken = {lexical._slot(token) for token in tokens(normalize(text))}
    return next(word for word in (f"zq{n}" for n in itertools.count()) if lexical._slot(word) in taken)


async def test_a_query_sharing_no_word_finds_nothing(client, catalogue) -> None:
    """Hits share a word with the query: a listing whose only tie to it is a hash collision of the
    lexical vector is not listed (it was, ranked like a partial match)."""
    stranger = _colliding_token("石墨烯导热膜的制备 一种高导热石墨烯薄膜的低成本制备工艺。")
    body = await _search(client, q=stranger, types="achievement")
    assert body["hits"] == [] and body["total"] == 0
    partial = await _search(client, q=f"石墨烯 {stranger}", types="achievement")
    assert [hit["id"] for hit in partial["hits"]] == [catalogue["graphene"]]  # shares 石墨烯


async def test_a_lone_digit_of_a_query_word_is_no_shared_word(client, owner, make_listing, indexed) -> None:
    """Meilisearch splits 5G into 5 and g where it ends a query; a listing containing only "5%"
    shares no word with "基站 5G"."""
    uni = await owner("achievements")
    film = await make_listing(
        "achievements", uni, title="掺杂镧的铁酸铋薄膜", description="制备了5%镧掺杂的铁酸铋薄膜。"
    )
    await indexed("achievement", film["id"])
    # A hash collision makes the vector side bring the film; only the 5 of 5G is "matched" in it.
    stranger = _colliding_token("掺杂镧的铁酸铋薄膜 制备了5%镧掺杂的铁酸铋薄膜。")
    for q in ("基站 5G", f"{stranger} 基站 5G"):
        assert (await _search(client, q=q, types="achievement"))["hits"] == [], q
    assert [hit["id"] for hit in (await _search(client, q="铁酸铋 5G"))["hits"]] == [film["id"]]


async def test_the_total_counts_listings_with_every_word_in_any_order(client, catalogue) -> None:
    """It counted the listings containing the first word (石墨烯 病理: 2, 病理 石墨烯: 1)."""
    for q in ("石墨烯 病理", "病理 石墨烯"):
        body = await _search(client, q=q)
        assert body["total"] == 0 and body["facets"]["type"] == {}, q
        # The ranked hits go on with listings sharing some of the words.
        assert {catalogue["graphene"], catalogue["ai"]} <= {hit["id"] for hit in body["hits"]}, q
    both = await _search(client, q="导热 石墨烯")
    assert both["total"] == 2 and both["facets"]["type"] == {"achievement": 1, "demand": 1}


async def test_each_hit_says_whether_it_holds_every_word_and_the_total_counts_those(
    client, catalogue
) -> None:
    """石墨烯 病理 answered total 0 above two hits, 稀土永磁 total 2 above eight: a client showed
    "2 results" over 8 and could not tell which two."""
    for q in ("石墨烯 病理", "导热 石墨烯", "石墨烯", "人工智能", "电网 负荷", "石墨烯 病理 电网", "石墨"):
        body = await _search(client, q=q, limit=100)
        assert sum(hit["matches_all_words"] for hit in body["hits"]) == body["total"], q
    partial = await _search(client, q="石墨烯 病理")
    flags = {hit["id"]: hit["matches_all_words"] for hit in partial["hits"]}
    assert partial["total"] == 0 and flags[catalogue["graphene"]] is False and flags[catalogue["ai"]] is False
    both = await _search(client, q="导热 石墨烯")
    assert {hit["id"] for hit in both["hits"] if hit["matches_all_words"]} == {
        catalogue["graphene"],
        catalogue["demand"],
    }
    # Browsing, or an explicit order, lists only listings holding every word.
    for params in ({}, {"sort": "newest", "q": "石墨烯"}, {"sort": "price_asc"}):
        body = await _search(client, **params)
        assert body["hits"] and all(hit["matches_all_words"] for hit in body["hits"]), params


async def test_a_hit_holding_every_word_is_listed_and_marked_whichever_side_found_it(
    client, owner, make_listing, indexed, monkeypatch
) -> None:
    """Two typos score the keyword side 0.5, and the listing came from the vector side (0.5, no
    token in common): it was counted (total 1) and dropped from the hits as under 0.51. Which of
    the vector side's hits hold every word is then asked of Meilisearch by the counting query."""
    uni = await owner("achievements")
    coating = await make_listing(
        "achievements",
        uni,
        title="Graphene coating for heat spreading",
        description="A graphene coating sprayed on copper.",
    )
    other = await make_listing(
        "achievements", uni, title="石墨烯导热涂层", description="导热石墨烯涂层的喷涂工艺。"
    )
    for listing in (coating, other):
        await indexed("achievement", listing["id"])
    asked: list[dict[str, list[str]]] = []
    ask = searching.holding_every_word

    async def spy(engine, q, filters, candidates):
        asked.append(candidates)
        return await ask(engine, q, filters, candidates)

    monkeypatch.setattr(searching, "holding_every_word", spy)
    body = await _search(client, q="graphane coatinq", types="achievement")
    assert body["total"] == 1
    assert [(hit["id"], hit["matches_all_words"]) for hit in body["hits"]] == [(coating["id"], True)]
    assert coating["id"] in asked[0]["achievement"]


async def test_prices_in_hits_read_as_in_the_listing(client, owner, make_listing, indexed) -> None:
    """Hits wrote "800000.0" (the search document's double) where the listing wrote "800000.00"."""
    uni = await owner("achievements")
    listing = await make_listing(
        "achievements",
        uni,
        title="谐波减速器柔轮加工工艺",
        description="柔轮的旋压加工。",
        asking_price="800000",
    )
    assert listing["asking_price"] == "800000.00"
    await indexed("achievement", listing["id"])
    hit = (await _search(client, q="柔轮加工", types="achievement"))["hits"][0]
    read = (await client.get(f"/api/v1/achievements/{listing['id']}")).json()
    assert hit["asking_price"] == read["asking_price"] == "800000.00"


async def test_highlights_escape_the_text_a_user_typed(client, owner, make_listing, indexed) -> None:
    """Text is stored as given — an abstract pasted from a web page holds <br>, a formula p<q —
    and a highlight is that text html-escaped with only its own marks as markup."""
    uni = await owner("achievements")
    title = "当 p<q 时<b>柔轮</b>的疲劳寿命"
    description = "结果如下：<br>1 材料与方法 <script>alert(1)</script> 柔轮 <em>R&D</em>"
    listing = await make_listing("achievements", uni, title=title, description=description)
    assert (listing["title"], listing["description"]) == (title, description)
    await indexed("achievement", listing["id"])
    highlight = (await _search(client, q="柔轮", types="achievement"))["hits"][0]["highlight"]
    assert highlight["title"] == "当 p&lt;q 时&lt;b&gt;<em>柔轮</em>&lt;/b&gt;的疲劳寿命"
    for shown, typed in ((highlight["title"], title), (highlight["description"], description)):
        text = re.sub("</?em>", "", shown)
        assert "<" not in text and html.unescape(text) == normalize(typed), shown  # ： → : (NFKC)
    assert "&lt;script&gt;" in highlight["description"] and "<em>柔轮</em>" in highlight["description"]


async def test_a_latin_last_word_is_matched_whole_a_chinese_one_as_a_prefix(
    client, catalogue, owner, make_listing, indexed
) -> None:
    """Meilisearch matches a query's last word as a prefix: AI listed a paper on AIDS, and 病理 AI
    listed other listings than AI 病理. A Chinese character typed alone still finds the words it
    begins (锂 → 锂离子)."""
    uni = await owner("achievements")
    aids = await make_listing("achievements", uni, **AIDS_SURVEY)
    lithium = await make_listing(
        "achievements", uni, title="锂离子电池正极材料", description="高镍正极材料的制备。"
    )
    for listing in (aids, lithium):
        await indexed("achievement", listing["id"])
    body = await _search(client, q="AI", types="achievement")
    assert [hit["id"] for hit in body["hits"]] == [catalogue["ai"]]  # 人工智能, a synonym
    assert body["total"] == 1
    orders = [await _search(client, q=q, types="achievement") for q in ("病理 AI", "AI 病理")]
    assert [[hit["id"] for hit in body["hits"]] for body in orders] == [[catalogue["ai"]]] * 2
    assert [hit["id"] for hit in (await _search(client, q="锂", types="achievement"))["hits"]] == [
        lithium["id"]
    ]


async def test_a_matched_word_is_highlighted_once(client, owner, make_listing, indexed) -> None:
    """Meilisearch cuts 无人机 into 无人 + 机 and marks each: <em>无人</em><em>机</em>."""
    uni = await owner("achievements")
    drone = await make_listing(
        "achievements", uni, title="无人机电力巡检系统", description="多旋翼无人机自主巡检输电线路。"
    )
    await indexed("achievement", drone["id"])
    hit = (await _search(client, q="无人机", types="achievement"))["hits"][0]
    assert hit["highlight"]["title"] == "<em>无人机</em>电力巡检系统"
    assert "<em>无人机</em>自主巡检" in hit["highlight"]["description"]


async def test_synonyms(client, catalogue) -> None:
    for q, key in (("人工智慧", "ai"), ("AI 病理", "ai"), ("graphene", "graphene")):
        body = await _search(client, q=q, types="achievement")
        assert catalogue[key] in [hit["id"] for hit in body["hits"][:2]], q


async def test_types_and_federated_ranking(client, catalogue) -> None:
    mixed = await _search(client, q="石墨烯")
    kinds = {hit["type"] for hit in mixed["hits"]}
    assert {"achievement", "demand"} <= kinds
    assert mixed["facets"]["type"] == {"achievement": 1, "demand": 1}
    only = await _search(client, q="石墨烯", types="achievement")
    assert {hit["type"] for hit in only["hits"]} == {"achievement"}
    assert only["total"] == 1
    hit = only["hits"][0]
    assert hit["title"] == "石墨烯导热膜的制备" and "<em>" in hit["highlight"]["title"]


async def test_filters_and_facets(client, catalogue) -> None:
    everything = await _search(client, types="achievement")
    assert everything["total"] == 4
    assert everything["facets"]["field"]["new_energy"] == 1
    assert everything["facets"]["region_province"] == {"320000": 2, "440000": 1}
    assert {h["id"] for h in (await _search(client, region="320000"))["hits"]} == {
        catalogue["grid"],
        catalogue["graphene"],
        catalogue["demand"],
    }
    assert {h["id"] for h in (await _search(client, region="320100"))["hits"]} == {
        catalogue["grid"],
        catalogue["demand"],
    }
    assert {h["id"] for h in (await _search(client, field="new_materials"))["hits"]} == {
        catalogue["graphene"],
        catalogue["demand"],
    }
    # Achievement-only filters restrict the result to achievements.
    assert {h["id"] for h in (await _search(client, maturity_min=6))["hits"]} == {
        catalogue["grid"],
        catalogue["graphene"],
    }
    assert {h["id"] for h in (await _search(client, price_max="500000"))["hits"]} == {catalogue["grid"]}
    assert {h["id"] for h in (await _search(client, transfer_mode="transfer"))["hits"]} == {catalogue["ai"]}


async def test_browsing_is_newest_first_and_an_order_is_strict(
    client, catalogue, owner, make_listing, indexed
) -> None:
    # The catalogue was published in this order: grid, ai, graphene, power, then the demand.
    browse = await _search(client)
    assert [h["id"] for h in browse["hits"]] == [
        catalogue[key] for key in ("demand", "power", "graphene", "ai", "grid")
    ]
    cheap = await _search(client, sort="price_asc")
    assert {h["type"] for h in cheap["hits"]} == {"achievement"} and cheap["total"] == 4
    assert [h["id"] for h in cheap["hits"][:2]] == [catalogue["grid"], catalogue["ai"]]
    dear = await _search(client, sort="price_desc")
    assert [h["id"] for h in dear["hits"][:2]] == [catalogue["ai"], catalogue["grid"]]
    assert {h["id"] for h in dear["hits"][2:]} == {catalogue["graphene"], catalogue["power"]}  # 面议 last
    # By relevance the older listing wins (the words are its title); newest first, the newer one
    # that has them in its description only comes first all the same.
    uni = await owner("achievements")
    older = await make_listing("achievements", uni, title="钙钛矿电池封装工艺", description="一种封装工艺。")
    newer = await make_listing(
        "achievements", uni, title="光伏组件的湿热老化测试", description="用于钙钛矿电池组件的老化测试。"
    )
    for listing in (older, newer):
        await indexed("achievement", listing["id"])
    relevant = await _search(client, q="钙钛矿电池")
    assert [h["id"] for h in relevant["hits"]] == [older["id"], newer["id"]]
    newest = await _search(client, q="钙钛矿电池", sort="newest")
    assert [h["id"] for h in newest["hits"]] == [newer["id"], older["id"]]
    assert newest["total"] == 2 and "<em>" in newest["hits"][0]["highlight"]["description"]
    # Strict in Meilisearch too, not only in the merge of the kinds: page one of one hit is the newest.
    page = await _search(client, q="钙钛矿电池", sort="newest", types="achievement", limit=1)
    assert [h["id"] for h in page["hits"]] == [newer["id"]]
    # An order lists what contains every word; near misses are not sorted in.
    assert (await _search(client, q="石墨烯 病理", sort="newest"))["hits"] == []
    assert (await _search(client, q="石墨烯 病理", sort="newest"))["total"] == 0


async def test_bad_parameters_name_the_field(client) -> None:
    for params, name in (
        ({"types": "patent"}, "types"),
        ({"sort": "cheapest"}, "sort"),
        ({"maturity_min": 12}, "maturity_min"),
        ({"region": "12"}, "region"),
        # Found by schemathesis: amounts the saved-search schema refuses once answered 500.
        ({"price_max": "5.010554119339964E-293"}, "price_max"),
        ({"price_max": "12.345"}, "price_max"),
        ({"price_max": "100000000000000"}, "price_max"),
    ):
        response = await client.get("/api/v1/search", params=params)
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        assert name in response.text


def test_minimal_fixture_is_publishable() -> None:
    assert {"title", "description", "field"} <= set(MINIMAL["achievements"])


async def test_a_query_typed_as_a_sentence_is_not_matched_on_function_words(
    client, owner, make_listing, indexed
) -> None:
    """的, 一种, 用于 … are stop words: not highlighted, not a shared word; words built on the same
    characters (等离子体, 太阳能, 应用) are still found."""
    uni = await owner("achievements")
    battery = await make_listing(
        "achievements", uni, title="退役锂电池回收工艺", description="一种锂电池正极材料的回收与再生方法。"
    )
    plasma = await make_listing(
        "achievements", uni, title="等离子体处理在太阳能电池中的应用", description="等离子体表面处理。"
    )
    for listing in (battery, plasma):
        await indexed("achievement", listing["id"])
    body = await _search(client, q="我们需要一种用于锂电池回收的新技术", types="achievement")
    assert [hit["id"] for hit in body["hits"]] == [battery["id"]]
    highlight = body["hits"][0]["highlight"]["description"]
    assert (
        "<em>回收</em>" in highlight and "<em>的</em>" not in highlight and "<em>一种</em>" not in highlight
    )
    for q in ("等离子体", "太阳能", "应用"):
        assert [hit["id"] for hit in (await _search(client, q=q, types="achievement"))["hits"]] == [
            plasma["id"]
        ], q
