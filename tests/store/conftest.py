"""Fixtures of the store tests: a database URL per backend, an open store, a small park.

The ``store_url`` fixture runs each test on SQLite (a file in the test's tmp_path) and on
PostgreSQL when ``CARBONTWIN_TEST_DATABASE_URL`` names a server. Each PostgreSQL test gets
its own schema (selected through ``search_path`` in the URL) that is dropped afterwards, so
tests are independent, repeatable, and safe next to other runs on the same database.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from stdnum.cn import uscc

from carbontwin.core.assets import Battery, PvArray
from carbontwin.core.park import Enterprise, Facility, Park, Zone
from carbontwin.core.points import MeteringPoint
from carbontwin.core.sources import EmissionSource
from carbontwin.store import Store, create_engine_for

PG_URL_ENV = "CARBONTWIN_TEST_DATABASE_URL"
REQUIRE_PG_ENV = "CARBONTWIN_REQUIRE_POSTGRES"


def _postgres_base_url() -> str:
    url = os.environ.get(PG_URL_ENV, "").strip()
    if url:
        return url
    msg = (
        f"{PG_URL_ENV} is not set, so the PostgreSQL tests cannot run; set it to a server, "
        "e.g. postgresql+psycopg://user@host:5432/dbname"
    )
    if os.environ.get(REQUIRE_PG_ENV) == "1":
        pytest.fail(f"{REQUIRE_PG_ENV}=1 demands PostgreSQL: {msg}", pytrace=False)
    pytest.skip(msg)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A URL of an empty database, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    base = _postgres_base_url()
    schema = f"ct_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine_for(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(admin.url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """An open, migrated store on each backend."""
    s = Store.open(store_url)
    try:
        yield s
    finally:
        s.close()


def make_uscc(base17: str) -> str:
    """Return a valid unified social credit code from its first 17 characters."""
    return base17 + uscc.calc_check_digit(base17)


def make_park() -> Park:
    """A small park: 2 zones, 3 enterprises, 2 facilities, 3 sources, 3 points, 2 assets."""
    return Park(
        id="testpark",
        name="Test Park",
        name_zh="测试园区",
        province="Jiangsu",
        area_km2=3.5,
        contacts=[{"name": "Li Wei", "role": "carbon office"}],
        accounting={"electricity_equivalent_kgce_per_kwh": {2025: 0.3}},
        zones=[
            Zone(id="Z1", name="Chemical zone", area_km2=2.0),
            Zone(id="Z2", name="Materials zone", parent="Z1"),
        ],
        enterprises=[
            Enterprise(
                id="E1",
                name="Methanol Co.",
                uscc="91110000600037341L",
                industry="C2614",
                zone="Z1",
                key_emitter=True,
                entry_date=dt.date(2012, 5, 1),
                contacts=[{"name": "Zhang Min", "role": "energy manager"}],
            ),
            Enterprise(
                id="E2",
                name="Textile Mill",
                uscc=make_uscc("91320909MA3JJL6B3"),
                industry="C1713",
                zone="Z2",
                entry_date=dt.date(2013, 1, 1),
            ),
            Enterprise(
                id="E3",
                name="Data Centre",
                uscc=make_uscc("91320906MA1JJC171"),
                industry="I6450",
                zone="Z2",
            ),
        ],
        facilities=[
            Facility(id="F1-CHP", name="CHP plant", enterprise="E1", zone="Z1", kind="power_plant"),
            Facility(id="F3-DC", name="Data hall", enterprise="E3", kind="building"),
        ],
        sources=[
            EmissionSource(
                id="E1-boiler",
                enterprise="E1",
                facility="F1-CHP",
                scope=1,
                category="fuel_combustion",
                method="fuel_combustion",
                carrier="natural_gas",
                params={"ncv_gj_per_1e4nm3": 389.31, "oxidation_frac": 0.99, "lines": 2},
                measured=[
                    {"name": "ncv", "value": 390.0, "valid_from": dt.date(2025, 1, 1)},
                ],
            ),
            EmissionSource(
                id="E2-grid",
                enterprise="E2",
                scope=2,
                category="purchased_electricity",
                method="electricity",
                carrier="electricity",
            ),
            EmissionSource(
                id="E3-grid",
                enterprise="E3",
                facility="F3-DC",
                scope=2,
                category="purchased_electricity",
                method="electricity",
                carrier="electricity",
                params={"green": False},
            ),
        ],
        points=[
            MeteringPoint(
                id="M-E1-gas",
                enterprise="E1",
                source="E1-boiler",
                carrier="natural_gas",
                unit="Nm3",
                kind="cumulative",
                rollover=1e8,
            ),
            MeteringPoint(
                id="M-E2-kwh",
                enterprise="E2",
                source="E2-grid",
                carrier="electricity",
                unit="kWh",
                protocol={"unit_id": 3},
            ),
            MeteringPoint(
                id="M-E3-kwh",
                enterprise="E3",
                source="E3-grid",
                carrier="electricity",
                unit="kWh",
                tags=["it"],
            ),
        ],
        assets=[
            PvArray(id="PV1", enterprise="E3", capacity_kw=500.0),
            Battery(id="BAT1", zone="Z2", energy_kwh=1000.0, power_kw=250.0),
        ],
    )


@pytest.fixture
def park() -> Park:
    """The small test park."""
    return make_park()
