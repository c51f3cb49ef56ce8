"""Today's metered emissions from raw readings, as the live overview shows them."""

import datetime as dt

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from carbontwin.accounting.inventory import compute_inventory
from carbontwin.core import demo_park_path, load_park
from carbontwin.core.records import ActivityEntry
from carbontwin.runtime.live_account import LiveAccount, today_so_far
from carbontwin.store import Store

TZ = "Asia/Shanghai"
DAY = dt.date(2026, 12, 1)
MIDNIGHT = pd.Timestamp(DAY).tz_localize(TZ)


@pytest.fixture(scope="module")
def park():
    return load_park(demo_park_path())


@pytest.fixture
def store():
    with Store.open("sqlite://") as s:
        yield s


def ms(ts):
    return int(ts.value // 1_000_000)


def put(store, point, *pairs):
    store.insert_readings([(point, ms(ts), value, 0) for ts, value in pairs])


def test_the_day_so_far_accounts_the_registers_like_an_entry_of_their_difference(store, park):
    q = pd.Timedelta(minutes=15)
    put(
        store,
        "P-E03-ELEC",
        (MIDNIGHT - q, 1_000.0),  # yesterday's last reading: the base of the first quarter
        (MIDNIGHT, 1_500.0),
        (MIDNIGHT + q, 2_100.0),
        (MIDNIGHT + 2 * q, 2_600.0),
        (MIDNIGHT + 10 * q, 9_999.0),  # after "now": not counted yet
    )
    now = MIDNIGHT + 3 * q
    live = today_so_far(store, park, now.tz_convert("UTC"))
    assert live.day == DAY
    assert live.readings == 3
    assert live.until == MIDNIGHT + 2 * q
    # The amounts within the day: 600 kWh (00:00–00:15) and 500 kWh (00:15–00:30); the
    # quarter before midnight (500 kWh) belongs to yesterday.
    entry = ActivityEntry(source="E03-ELEC", start=DAY, end=DAY, quantity=1_100.0, unit="kWh")
    expected = compute_inventory(park, DAY.isoformat(), entries=[entry], strict=False)
    want = float(expected.dataset("year")["emissions_tco2e"].sum())
    assert want > 0
    assert_allclose(live.total(), want, rtol=1e-12)
    assert set(live.by_enterprise) == {"E03"}
    assert_allclose(live.by_scope[2], want, rtol=1e-12)
    assert live.total({"E04"}) == 0.0
    # Park electric demand per quarter-hour: 600 kWh in 15 min is 2,400 kW.
    assert_allclose(live.electricity_kw.to_numpy(), [2_400.0, 2_000.0])
    assert live.electricity_kw.index[0] == MIDNIGHT


def test_a_day_without_readings_is_empty_not_an_error(store, park):
    live = today_so_far(store, park, pd.Timestamp("2026-12-01 04:00", tz="UTC"))
    assert (live.until, live.readings, live.total(), live.by_scope) == (None, 0, 0.0, {})
    assert live.electricity_kw.empty


def test_a_spike_in_a_register_does_not_inflate_the_day(store, park):
    q = pd.Timedelta(minutes=15)
    values = [1_000.0, 1_500.0, 15_000.0, 2_000.0, 2_500.0]  # the third is ten times too high
    put(store, "P-E03-ELEC", *[(MIDNIGHT + i * q, v) for i, v in enumerate(values)])
    live = today_so_far(store, park, (MIDNIGHT + 5 * q).tz_convert("UTC"))
    assert_allclose(live.electricity_kw.sum() * 0.25, 1_500.0)


def test_the_answer_is_kept_for_its_time_to_live(store, park):
    clock = [MIDNIGHT + pd.Timedelta(hours=1)]
    live = LiveAccount(store, park, clock=lambda: clock[0], ttl_s=60)
    first = live.get()
    put(store, "P-E03-ELEC", (MIDNIGHT, 10.0), (MIDNIGHT + pd.Timedelta(minutes=15), 20.0))
    assert live.get() is first
    live.ttl_s = 0
    assert live.get().total() > 0
