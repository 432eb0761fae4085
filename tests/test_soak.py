"""The soak of bench/soak.py, shortened for CI: live MQTT ingest plus dashboard load for 15 seconds.

What the hour-long run in BENCHMARKS.md ("Soak") shows, in small: every reading published at QoS 1 is stored
exactly once (count and sum of values), no HTTP request of the logged-in dashboard client fails, and the
report carries every figure the section quotes. Timings and memory are reported, not asserted: on a shared
CI machine they say more about the neighbours than about the product.
"""
import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import PG, PG_URL
from tests.services import require_service

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _soak():
    spec = importlib.util.spec_from_file_location("soak", BENCH / "soak.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.postgres
def test_short_soak_stores_every_reading_once_and_serves_every_request(tmp_path, monkeypatch):
    if not PG:
        require_service("PostgreSQL", f"PostgreSQL not reachable at {PG_URL}")
    soak = _soak()
    if not soak.mosquitto():
        require_service("Mosquitto", "no mosquitto executable: install mosquitto")
    monkeypatch.setattr(soak.api_load, "PG_ADMIN", PG_URL)  # the database is created on the tests' server
    # 15 s at 4,000 readings/s (40 messages of 100 readings/s): a lower rate than the hour's, so that the drain
    # stays short on a busy CI machine; exactly-once does not depend on the rate.
    r = soak.run(soak.Options(minutes=0.25, rate=4000, rps=5, sample=5, out=tmp_path, drain_max=240))

    assert r["drained"], f"the ingest had not stored everything after {r['drain_s']} s: {r['not_yet_stored']}"
    assert r["published"]["readings"] > 0
    assert r["lost"] == 0 and r["duplicated"] == 0
    assert r["stored"] == {"readings": r["published"]["readings"], "sum": r["published"]["sum"]}
    assert r["sum_matches"]
    assert r["ingest_stats"]["readings"] == r["published"]["readings"]  # each new row counted once by the ingest
    assert r["dead_letters"] == 0
    assert r["requests"] > 0 and r["http_errors"] == 0, r["http_statuses"]

    for key in ("rate_readings_per_s", "rate_source", "benchmark_row", "machine", "published", "stored",
                "redelivered_messages", "ingest_reconnections_at_least", "broker_log", "memory_slope_mb_per_hour",
                "rss_mb_first_last", "lag_s", "first_window", "last_window", "cpu_us_per_stored_reading",
                "publisher_held_s", "samples"):
        assert key in r, key
    assert set(r["memory_slope_mb_per_hour"]) == {"ingest", "web", "broker"}
    assert r["machine"]["load_average_1min"]["max"] >= 0
    for w in (r["first_window"], r["last_window"]):
        assert w["requests"] > 0 and set(w["latency_ms"]) >= {"p50", "p95", "p99"}
    assert r["lag_s"]["n"] > 0  # the probe meter's readings were matched to their publishing
    s = r["samples"][-1]
    assert {"ingest", "web", "broker"} <= set(s["rss_mb"]) and all(v > 0 for v in s["rss_mb"].values())

    saved = json.loads((tmp_path / "soak.json").read_text())
    assert saved["published"] == r["published"]
    assert (tmp_path / "soak.png").stat().st_size > 0
    assert "| lost / duplicated | **0 / 0**" in (tmp_path / "soak.md").read_text()


def test_the_rate_is_half_the_benchmarked_batched_ingest():
    soak = _soak()
    rate, row = soak.benchmark_rate()
    assert "**zerocarbon ingest**" in row and f"**{rate:,.0f} readings/s" in row


def test_payload_values_sum_as_published():
    soak = _soak()
    body, total = soak.payload(7)
    readings = json.loads(body)["readings"]
    assert len(readings) == soak.PER_MESSAGE
    assert sum(x["value"] for x in readings) == total
    assert readings[0]["ts"] == (soak.T0 + 700 * soak.STEP).isoformat()


def test_no_mosquitto_is_a_clear_stop(tmp_path, monkeypatch):
    soak = _soak()
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(soak, "MOSQUITTO_PATHS", ())
    with pytest.raises(SystemExit, match="mosquitto"):
        soak.start_broker(tmp_path)
