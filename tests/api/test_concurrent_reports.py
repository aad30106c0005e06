"""Reports racing each other, as many Lambda instances would send them: each thread is one instance (its own
event loop) running the real handler against the same database behind pgBouncer and the same chain."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from missout.chain.accounts import decode_participants
from missout.chain.pda import find_participants_address
from missout.db.tables import activity, participants, pools, used_signatures
from tests.api.chain_api import Answer, invoke
from tests.support.verify_world import VerifyWorld


@pytest.fixture(autouse=True)
def patient_database_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    """All these "instances" share one process and two busy cores here, so a request can wait seconds for the
    GIL, not for the database; the 5 s default socket timeout would then turn scheduling delay into 503s.
    (A real Lambda instance runs one request at a time on its own CPU.)"""
    from missout import settings

    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT_S", "30")
    monkeypatch.setenv("DATABASE_LOCK_TIMEOUT_MS", "20000")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_MS", "30000")
    settings.clear_caches()


def _join_report(pool: str, signature: str, wallet: str) -> Answer:
    return invoke("POST", f"/api/pools/{pool}/join", body={"signature": signature, "wallet": wallet})


def test_100_concurrent_reports_of_one_join_record_it_once(world: VerifyWorld, direct_engine: Engine) -> None:
    _, pool = world.create_pool()
    join = world.join(pool, world.player)
    wallet = str(world.player.pubkey())
    with ThreadPoolExecutor(max_workers=100) as pool_of_instances:
        answers = list(pool_of_instances.map(lambda _: _join_report(str(pool), join, wallet), range(100)))
    statuses = [a.status for a in answers]
    assert all(s in (200, 201, 409) for s in statuses), [a.body for a in answers if a.status >= 500][:3]
    assert statuses.count(201) == 1
    records = {tuple(sorted(a.body.items())) for a in answers if a.status in (200, 201)}
    assert len(records) == 1  # every success names the same record
    with direct_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(pools)).scalar_one() == 1
        uses = conn.execute(select(used_signatures.c.action).where(used_signatures.c.signature == join)).all()
        assert len(uses) == 1
        joins = conn.execute(
            select(func.count()).select_from(activity).where(activity.c.kind == "join_pool")
        ).scalar_one()
        assert joins == 1
        assert conn.execute(select(pools.c.participants_count)).scalar_one() == 2


def test_concurrent_joins_of_one_pool_leave_the_chains_count_and_order(
    world: VerifyWorld, direct_engine: Engine
) -> None:
    """A pool has at most 20 seats: 19 joins land on chain, then 50 reports race (each join reported two or
    three times, in shuffled order), the first of them for a pool not yet recorded."""
    _, pool = world.create_pool(max_participants=20)
    joins = []
    for _ in range(19):
        player = world.wallet()
        joins.append((world.join(pool, player), str(player.pubkey())))
    reports = [joins[n % 19] for n in range(50)]
    reports = reports[::7] + [r for n, r in enumerate(reports) if n % 7]  # not in chain order
    with ThreadPoolExecutor(max_workers=50) as instances:
        answers = list(instances.map(lambda r: _join_report(str(pool), r[0], r[1]), reports))
    statuses = [a.status for a in answers]
    assert all(s in (200, 201, 409) for s in statuses), [a.body for a in answers if a.status >= 300]
    assert statuses.count(201) == 19
    listed = world.chain.get_account(find_participants_address(world.program_id, pool))
    assert listed is not None
    on_chain = [str(w) for w in decode_participants(bytes(listed.data)).wallets]
    with direct_engine.connect() as conn:
        seated = (
            conn.execute(
                select(participants.c.wallet)
                .where(participants.c.seat.is_not(None))
                .order_by(participants.c.seat)
            )
            .scalars()
            .all()
        )
        count, status = conn.execute(select(pools.c.participants_count, pools.c.status)).one()
    assert seated == on_chain
    assert count == len(on_chain) == 20
    assert status == "locked"
