"""The summary tables stay equal to the naive SUM over the contracts, and both to an independent
model of the operations, through Hypothesis-generated sequences of register / amend / cancel /
objection on random dates, regions and dimensions."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from app.contracts.workflow import Action
from app.core.config import Settings
from app.stats.queries import GroupBy, totals
from tests.stats import factory

CENTS = st.integers(min_value=1, max_value=10**13).map(lambda c: Decimal(c) / 100)
DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 11, 20))


@st.composite
def registration(draw: st.DrawFn) -> dict:
    contract = draw(CENTS)
    technology = draw(st.integers(0, int(contract * 100)).map(lambda c: Decimal(c) / 100))
    return {
        "op": "register",
        "region": draw(st.sampled_from(factory.SELLER_REGIONS)),
        "on": draw(DAYS),
        "contract_amount": contract,
        "technology_amount": min(technology, Decimal("4999999.99")),
        "contract_type": draw(st.sampled_from(["development", "consulting"])),
        "field": draw(st.sampled_from(["new_energy", "agriculture", "aerospace"])),
        "seller_kind": draw(st.sampled_from(["enterprise", "university", "other"])),
        "ip_kind": draw(st.sampled_from(["patent", "none", "software_copyright"])),
    }


OPERATION = st.one_of(
    registration(),
    st.builds(
        lambda i, c, t: {"op": "amend", "index": i, "contract_amount": c, "technology_fraction": t},
        st.integers(0, 50),
        CENTS,
        st.integers(0, 100),
    ),
    st.builds(lambda i: {"op": "cancel", "index": i}, st.integers(0, 50)),
    st.builds(lambda i: {"op": "object", "index": i}, st.integers(0, 50)),
    st.builds(
        lambda i, t: {"op": "reregister", "index": i, "technology_fraction": t},
        st.integers(0, 50),
        st.integers(0, 100),
    ),
)


@dataclass
class Model:
    """What the statistics must say, computed without the database."""

    live: dict[str, dict] = field(default_factory=dict)

    def expected(self, since: date | None, until: date | None) -> tuple[int, Decimal, Decimal]:
        rows = [
            r
            for r in self.live.values()
            if r["status"] == "registered"
            and (since is None or r["on"] >= since)
            and (until is None or r["on"] <= until)
        ]
        return (
            len(rows),
            sum((r["contract_amount"] for r in rows), Decimal(0)),
            sum((r["technology_amount"] for r in rows), Decimal(0)),
        )


RANGES = [
    (None, None),
    (date(2025, 3, 15), date(2026, 2, 10)),
    (date(2025, 6, 1), date(2025, 8, 31)),
    (date(2026, 5, 3), date(2026, 5, 29)),
    (date(2025, 1, 1), None),
]


@hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(OPERATION, min_size=1, max_size=10))
async def test_summary_equals_naive_sum_and_model(
    db: AsyncSession, settings: Settings, app, operations: list[dict]
) -> None:
    await factory.truncate(db)
    s = await factory.setup(db)
    model = Model()
    ids: list[str] = []
    for op in operations:
        if op["op"] == "register":
            params = {k: v for k, v in op.items() if k not in ("op", "region", "on")}
            app_id = await factory.register(db, s, settings, region=op["region"], on=op["on"], **params)
            ids.append(app_id)
            model.live[app_id] = {
                "status": "registered",
                "region": op["region"],
                "on": op["on"],
                "contract_amount": op["contract_amount"],
                "technology_amount": op["technology_amount"],
            }
            continue
        if not ids:
            continue
        app_id = ids[op["index"] % len(ids)]
        row = model.live[app_id]
        on = row["on"]
        if op["op"] == "reregister":
            if row["status"] != "objected":
                continue
            # The objection is taken up and the contract registered again, same number and date.
            await factory.officer_act(db, s, settings, row["region"], app_id, Action.reopen, {}, on)
            technology = (row["contract_amount"] * op["technology_fraction"] / 100).quantize(Decimal("0.01"))
            technology = min(technology, Decimal("4999999.99"))
            await factory.officer_act(
                db, s, settings, row["region"], app_id, Action.register, {"technology_amount": technology}, on
            )
            row.update(status="registered", technology_amount=technology)
            continue
        if row["status"] != "registered":
            continue
        if op["op"] == "amend":
            technology = (op["contract_amount"] * op["technology_fraction"] / 100).quantize(Decimal("0.01"))
            # A change to a large technology amount waits for expert review (amendment_review) and
            # counts only once decided: the model keeps to amendments that take effect at once.
            technology = min(technology, Decimal("4999999.99"))
            await factory.officer_act(
                db,
                s,
                settings,
                row["region"],
                app_id,
                Action.amend,
                {"contract_amount": op["contract_amount"], "technology_amount": technology, "reason": "变更"},
                on,
            )
            row.update(contract_amount=op["contract_amount"], technology_amount=technology)
        elif op["op"] == "cancel":
            await factory.officer_act(
                db, s, settings, row["region"], app_id, Action.cancel, {"reason": "注销"}, on
            )
            row["status"] = "cancelled"
        else:
            await factory.officer_act(
                db, s, settings, row["region"], app_id, Action.object, {"reason": "异议"}, on
            )
            row["status"] = "objected"
    for since, until in RANGES:
        expected = model.expected(since, until)
        for group_by in GroupBy:
            fast = await totals(db, group_by, since=since, until=until)
            naive = await totals(db, group_by, since=since, until=until, naive=True)
            assert fast == naive, (group_by, since, until)
            assert (
                sum(g.count for g in fast),
                sum((g.contract_amount for g in fast), Decimal(0)),
                sum((g.technology_amount for g in fast), Decimal(0)),
            ) == expected
        for prefixes in (["32"], ["3201", "3205"], ["320102"], ["36"]):
            for group_by in (GroupBy.total, GroupBy.city, GroupBy.field):
                scoped = await totals(db, group_by, since=since, until=until, prefixes=prefixes)
                assert scoped == await totals(
                    db, group_by, since=since, until=until, prefixes=prefixes, naive=True
                )


async def test_amended_objected_and_registered_again_keeps_the_amended_contract_amount(
    db: AsyncSession, settings: Settings, app
) -> None:
    s = await factory.setup(db)
    on = date(2026, 4, 9)
    app_id = await factory.register(
        db,
        s,
        settings,
        region="320102",
        on=on,
        contract_amount=Decimal("100.00"),
        technology_amount=Decimal("80.00"),
    )
    await factory.officer_act(
        db,
        s,
        settings,
        "320102",
        app_id,
        Action.amend,
        {"contract_amount": Decimal("150.00"), "technology_amount": Decimal("120.00"), "reason": "变更"},
        on,
    )
    await factory.officer_act(db, s, settings, "320102", app_id, Action.object, {"reason": "异议"}, on)
    assert await totals(db, GroupBy.total) == []
    await factory.officer_act(db, s, settings, "320102", app_id, Action.reopen, {}, on)
    await factory.officer_act(
        db, s, settings, "320102", app_id, Action.register, {"technology_amount": Decimal("130.00")}, on
    )
    fast = await totals(db, GroupBy.total)
    assert fast == await totals(db, GroupBy.total, naive=True)
    assert [(g.count, g.contract_amount, g.technology_amount) for g in fast] == [
        (1, Decimal("150.00"), Decimal("130.00"))
    ]
