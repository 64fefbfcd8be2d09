"""The schema is only ever changed by migrations, and the migrations match the models."""

import uuid
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert, make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from app.accounts.models import OrganizationKind
from app.core import migrate
from app.listings.models import Achievement, Demand
from app.matching.models import Subscription, SubscriptionKind
from app.models import Base
from tests.conftest import _in_thread
from tests.fixtures.accounts import create_user


def _differences(connection) -> list:  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": False}
    )
    return compare_metadata(context, Base.metadata)


async def test_models_and_migrations_agree(postgres_url: str) -> None:
    engine = create_async_engine(postgres_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == [], "models and migrations disagree; run `techex make-migration <slug>`"


@pytest.fixture
async def scratch_database(postgres_url: str) -> AsyncIterator[str]:
    name = f"roundtrip_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(make_url(postgres_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        await admin.dispose()


async def test_every_migration_downgrades_and_upgrades_again(scratch_database: str) -> None:
    _in_thread(migrate.upgrade, scratch_database)
    _in_thread(migrate.downgrade, scratch_database, "base")
    engine = create_async_engine(scratch_database)
    try:
        async with engine.connect() as connection:
            tables = (
                (
                    await connection.execute(
                        text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                    )
                )
                .scalars()
                .all()
            )
        assert set(tables) <= {"alembic_version"}
    finally:
        await engine.dispose()
    _in_thread(migrate.upgrade, scratch_database)


async def _old_subscription(db: AsyncSession, user, **columns) -> uuid.UUID:  # type: ignore[no-untyped-def]
    """A subscription row as an earlier revision had it: only the columns named (the model may
    have more by now)."""
    subscription_id = uuid.uuid4()
    await db.execute(
        insert(Subscription.__table__).values(
            id=subscription_id,
            user_id=user.id,
            organization_id=user.organization_id,
            kind=SubscriptionKind.demand.value,
            **columns,
        )
    )
    await db.commit()
    return subscription_id


async def test_follows_made_twice_are_merged_when_the_one_follow_rule_arrives(scratch_database: str) -> None:
    _in_thread(migrate.upgrade, scratch_database, "749b1fdc8707")  # the revision before the rule
    engine = create_async_engine(scratch_database)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as db:
            user = await create_user(db, kind=OrganizationKind.enterprise)
            demands = [Demand(title=f"需求{n}", owner_organization_id=user.organization_id) for n in range(2)]
            db.add_all(demands)
            await db.commit()
            follows = []
            for demand in (demands[0], demands[0], demands[0], demands[1]):  # one commit each: in order
                follows.append(await _old_subscription(db, user, demand_id=demand.id))
        _in_thread(migrate.upgrade, scratch_database)
        async with engine.connect() as connection:
            kept = set((await connection.execute(text("SELECT id FROM subscriptions"))).scalars())
            audited = set(
                (
                    await connection.execute(
                        text(
                            "SELECT object_id FROM audit_log WHERE object_type = 'subscription'"
                            " AND action = 'deleted' AND changes->>'reason' = 'duplicate follow'"
                        )
                    )
                ).scalars()
            )
    finally:
        await engine.dispose()
    assert kept == {follows[0], follows[3]}  # the earliest follow of each demand
    assert audited == {str(follows[1]), str(follows[2])}


async def test_webhooks_made_before_signing_get_a_secret(scratch_database: str) -> None:
    _in_thread(migrate.upgrade, scratch_database, "ae4e3dec91c4")  # the revision before signing
    engine = create_async_engine(scratch_database)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as db:
            user = await create_user(db, kind=OrganizationKind.enterprise)
            demands = [Demand(title=f"需求{n}", owner_organization_id=user.organization_id) for n in range(3)]
            db.add_all(demands)
            await db.commit()
            hooks = [
                await _old_subscription(
                    db, user, demand_id=demands[n].id, webhook_url=f"https://erp.example/{n}"
                )
                for n in range(2)
            ]
            plain = await _old_subscription(db, user, demand_id=demands[2].id)
        _in_thread(migrate.upgrade, scratch_database)
        async with engine.connect() as connection:
            secrets = dict(
                (await connection.execute(text("SELECT id, webhook_secret FROM subscriptions"))).all()
            )
            audited = set(
                (
                    await connection.execute(
                        text("SELECT object_id FROM audit_log WHERE action = 'webhook_secret_rotated'")
                    )
                ).scalars()
            )
    finally:
        await engine.dispose()
    assert secrets[plain] is None
    assert all(secrets[hook].startswith("whsec_") for hook in hooks)
    assert secrets[hooks[0]] != secrets[hooks[1]]
    assert audited == {str(hook) for hook in hooks}


async def test_stored_trade_secret_rights_become_technical_secret(scratch_database: str) -> None:
    _in_thread(migrate.upgrade, scratch_database, "6d2a9c4e1f73-1")  # the revision before the rename
    engine = create_async_engine(scratch_database)
    rights = [
        {"kind": "invention_patent", "number": "ZL1", "status": "granted"},
        {"kind": "trade_secret", "number": None, "status": None},
    ]
    try:
        async with AsyncSession(engine, expire_on_commit=False) as db:
            user = await create_user(db, kind=OrganizationKind.university)
            achievement_id = uuid.uuid4()
            await db.execute(
                insert(Achievement.__table__).values(
                    id=achievement_id,
                    title="成果",
                    owner_organization_id=user.organization_id,
                    ip_rights=rights,
                )
            )
            await db.commit()
        _in_thread(migrate.upgrade, scratch_database)
        query = text("SELECT ip_rights FROM achievements WHERE id = :id")
        async with engine.connect() as connection:
            upgraded = (await connection.execute(query, {"id": achievement_id})).scalar_one()
        _in_thread(migrate.downgrade, scratch_database, "6d2a9c4e1f73-1")
        async with engine.connect() as connection:
            downgraded = (await connection.execute(query, {"id": achievement_id})).scalar_one()
    finally:
        await engine.dispose()
    assert upgraded == [rights[0], {**rights[1], "kind": "technical_secret"}]  # in order, the rest kept
    assert downgraded == rights


async def test_every_installation_starts_with_the_jiangsu_draft_reward_rule(scratch_database: str) -> None:
    _in_thread(migrate.upgrade, scratch_database)
    engine = create_async_engine(scratch_database)
    try:
        async with engine.connect() as connection:
            rules = (
                await connection.execute(
                    text(
                        "SELECT region_code, beneficiary, rate, annual_cap, valid_from, valid_until,"
                        " minimum_contract_amount, exclude_related_party FROM reward_rules"
                    )
                )
            ).all()
            audited = (
                (
                    await connection.execute(
                        text("SELECT action FROM audit_log WHERE object_type = 'reward_rule'")
                    )
                )
                .scalars()
                .all()
            )
    finally:
        await engine.dispose()
    assert rules == [
        ("32", "agency", Decimal("0.030000"), Decimal("1000000.00"), date(2024, 1, 1), None, None, True)
    ]
    assert audited == ["create"]
