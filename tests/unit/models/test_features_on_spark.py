"""The same Ibis expression gives identical features on DuckDB and on Spark (local mode).

Spark starts once per test session (local[1], UTC session time zone, no UI); the data is small
so the comparison costs seconds after start-up. It never skips: Spark is the scale-out path.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import ibis
import pandas as pd
import pytest

from early_signals import CATALOG, COLLECTIONS, world
from maison.models.features import compute, spec_for


@pytest.fixture(scope="session")
def spark_backend() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[1]")
        .appName("maison-features-test")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.pyspark.python", sys.executable)
        .config("spark.pyspark.driver.python", sys.executable)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield ibis.pyspark.connect(session)
    session.stop()


def test_duckdb_and_spark_compute_identical_features(spark_backend: Any) -> None:
    events, _ = world(40, seed=5)
    spec = spec_for(CATALOG.category, COLLECTIONS.collection)
    on_duckdb = compute(events, CATALOG, COLLECTIONS, spec)
    on_spark = compute(events, CATALOG, COLLECTIONS, spec, backend=spark_backend)
    assert len(on_duckdb) == 40
    pd.testing.assert_frame_equal(on_duckdb, on_spark, check_dtype=False, check_exact=False, rtol=1e-9)
