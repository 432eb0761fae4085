"""The engines that run the bulk calculations of ``core.bulk_sql`` over the lake: DuckDB embedded (the default)
and Apache Spark (a standalone or managed cluster, or ``local[*]``).

Both are handed the same thing: the Parquet files of one organisation's part of the lake (hive partitions
``site`` and ``month`` as columns), small frames registered by name, and the definition rendered for their
dialect; or, for the inventory (``run_tables``), typed tables of activity rows and the route tables resolved
for them. Both return a pandas frame whose timestamps are naive (UTC stamps and local wall times as the SQL made
them), so what follows a query is the same code whichever engine ran it.

Spark settings. The master comes from ``--spark-master``, else ``$ZEROCARBON_SPARK_MASTER``, else the one
``spark-submit`` set, else ``local[*]``. The session zone is UTC, which the rendered SQL relies on; partition
values stay text (a site coded ``001`` is not the number 1). Anything else (memory, executors, object-store
credentials) comes from Spark's own configuration: ``spark-defaults.conf``, ``spark-submit --conf`` or
``$PYSPARK_SUBMIT_ARGS`` (docs/spark.md).
"""
from __future__ import annotations

import mmap
import os
import re
from contextlib import contextmanager
import signal
import socket
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from zerocarbon.core.bulk_sql import ENGINES, render
from zerocarbon.errors import InputError, Problem, StorageError

MASTER_ENV = "ZEROCARBON_SPARK_MASTER"
LOG_CONFIG = Path(__file__).resolve().parent.parent / "spark" / "log4j2.properties"
#: what runs the server's bulk calculations: duckdb or spark (roll-ups and KPIs default to duckdb; the inventory
#: computes its combustion, grid-electricity and purchase rows in process unless this is set)
ENGINE_ENV = "ZEROCARBON_ENGINE"
DEFAULT_MASTER = "local[*]"
#: the master URLs Spark accepts (https://spark.apache.org/docs/latest/submitting-applications.html#master-urls)
MASTER_URL = re.compile(r"local(\[(\*|[1-9]\d*)(,\d+)?\])?|spark://[^/\s]+|yarn|k8s://\S+|mesos://\S+")


def under_spark_submit() -> bool:
    """Whether this process is a driver that ``spark-submit`` started (it hands the JVM's gateway over)."""
    return bool(os.environ.get("PYSPARK_GATEWAY_PORT"))


def check_master(master: str, where: str) -> None:
    if not MASTER_URL.fullmatch(master):
        raise InputError([Problem(where, None, None, f"{master!r} is not a Spark master URL: local, local[N], "
                                                     "local[*], spark://HOST:PORT, yarn or k8s://HOST:PORT")])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0].rstrip(". ") if text else type(exc).__name__


def _master_answers(master: str) -> None:
    """A standalone master that refuses connections would cost a minute of registration retries: ask first."""
    if not master.startswith("spark://"):
        return
    problems = []
    for hostport in master.removeprefix("spark://").split(","):
        host, _, port = hostport.rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port or 7077)), timeout=5):
                return
        except (OSError, ValueError) as exc:
            problems.append(f"{hostport}: {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}")
    raise StorageError(f"the Spark master {master} does not answer ({'; '.join(problems)}); start it "
                       "(sbin/start-master.sh) or give the URL its web page shows (spark://HOST:7077)")


@dataclass(frozen=True)
class Readings:
    """One organisation's lake files for a query: ``files`` lists them, ``base`` is the folder the hive
    partitions are counted from. A lake at a URI is listed by the engine itself: ``files`` is then the
    organisation's folder, and ``sites`` and ``months`` the partitions to keep (None: all)."""
    files: list[str]
    base: str
    sites: list[str] | None = None
    months: list[str] | None = None


def naive(df: pd.DataFrame) -> pd.DataFrame:
    """Timestamps as naive values in the zone the SQL computed them in: Spark hands instants back as UTC."""
    for c in df.columns:
        if isinstance(df[c].dtype, pd.DatetimeTZDtype):
            df[c] = df[c].dt.tz_convert("UTC").dt.tz_localize(None)
        if pd.api.types.is_datetime64_any_dtype(df[c]):
            df[c] = df[c].astype("datetime64[us]")
    return df


def arrow_table(frame: pd.DataFrame) -> pa.Table:
    """A frame as an Arrow table both engines read the same way: text as ``string`` (categories and Arrow-backed
    text included; missing stays null), floats as ``double``, flags as ``bool``, whole numbers as ``int64``."""
    columns = {}
    for c in frame.columns:
        s = frame[c]
        if pd.api.types.is_bool_dtype(s):
            columns[str(c)] = pa.array(s.to_numpy(dtype=bool), type=pa.bool_())
        elif pd.api.types.is_integer_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype):
            columns[str(c)] = pa.array(s.to_numpy(dtype=np.int64), type=pa.int64())
        elif pd.api.types.is_float_dtype(s):
            columns[str(c)] = pa.array(s.to_numpy(dtype=float), type=pa.float64(), from_pandas=True)
        elif isinstance(s.dtype, pd.CategoricalDtype):  # decoded by Arrow, never through Python objects
            codes = s.cat.codes.to_numpy()
            arr = pa.array(s.cat.categories, from_pandas=True).take(pa.array(codes, mask=codes < 0))
            columns[str(c)] = arr if arr.type == pa.string() else arr.cast(pa.string())
        else:
            arr = pa.array(s, from_pandas=True)
            columns[str(c)] = arr if arr.type == pa.string() else arr.cast(pa.string())
    return pa.table(columns) if columns else pa.table({})


class DuckDBEngine:
    name = "duckdb"
    errors: tuple[type[BaseException], ...] = (duckdb.Error,)

    def run(self, readings: Readings, sql: str, frames: dict[str, pd.DataFrame], params: dict) -> pd.DataFrame:
        con = duckdb.connect()
        try:
            con.read_parquet([duckdb_file(f) for f in readings.files], hive_partitioning=True).create_view("readings")
            for name, frame in frames.items():
                con.register(name, frame)
            return naive(con.execute(render(sql, self.name, **params)).df())
        finally:
            con.close()

    def run_tables(self, sql: str, tables: dict[str, pd.DataFrame], **params) -> pd.DataFrame:
        """Run ``sql`` where each of ``tables`` is a table of its name (no lake); text comes back as categories."""
        con = duckdb.connect()
        try:
            for name, frame in tables.items():
                con.register(name, arrow_table(frame))
            return naive(con.sql(render(sql, self.name, **params)).to_arrow_table().to_pandas(
                strings_to_categorical=True))
        finally:
            con.close()

    def io_error(self, exc: BaseException) -> bool:
        return isinstance(exc, duckdb.IOException)


@dataclass
class SparkEngine:
    """Apache Spark through PySpark; the session is made on first use and kept for the process."""
    master: str | None = None
    name: str = field(default="spark", init=False)

    @property
    def errors(self) -> tuple[type[BaseException], ...]:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException
        return (PySparkException, Py4JError)

    def chosen_master(self) -> str | None:
        """The master to ask for, or None to take the one ``spark-submit`` was given (which then always wins:
        neither ``--spark-master`` nor the environment may silently send the job elsewhere)."""
        if under_spark_submit():
            if self.master:
                raise InputError([Problem("--spark-master", None, None, "this job runs under spark-submit, "
                                          "whose --master decides the master; leave --spark-master out")])
            return None
        if self.master:
            check_master(self.master, "--spark-master")
            return self.master
        if os.environ.get(MASTER_ENV):
            check_master(os.environ[MASTER_ENV], f"${MASTER_ENV}")
            return os.environ[MASTER_ENV]
        return DEFAULT_MASTER

    def session(self):
        try:
            from pyspark.sql import SparkSession
        except ImportError:  # pragma: no cover - pyspark is in the project's requirements
            raise StorageError("the Spark engine needs pyspark: pip install -r requirements.lock") from None
        master = self.chosen_master()
        builder = SparkSession.builder.appName("zerocarbon")
        if master:
            _master_answers(master)
            builder = builder.master(master)
            if not _own_java_options():
                # Spark's start-up notices left out of the command's output; this must be set before the JVM
                # starts (setLogLevel comes after them). A user's own driver Java options are never replaced.
                builder = builder.config("spark.driver.extraJavaOptions", f"-Dlog4j.configurationFile={LOG_CONFIG}")
        builder = (builder.config("spark.sql.session.timeZone", "UTC")
                   .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
                   # a progress bar for a person watching; none in a log, where it garbles the lines
                   .config("spark.ui.showConsoleProgress", "true" if sys.stderr.isatty() else "false"))
        made: dict = {}

        def start() -> None:
            try:
                made["spark"] = builder.getOrCreate()
            except Exception as exc:  # noqa: BLE001 - handed to the waiting thread
                made["error"] = exc

        # Started on a thread of its own: PySpark then sets no SIGINT handler (it does on the main thread only).
        # Its handler calls Spark from inside the call Ctrl-C interrupted, which fails, and the start-up was
        # then reported as a missing Java. Here Ctrl-C is a plain KeyboardInterrupt; `interruptible` cancels
        # the jobs a command runs.
        starting = threading.Thread(target=start, name="spark-start", daemon=True)
        starting.start()
        while starting.is_alive():
            starting.join(0.1)
        if "error" in made:  # no Java, a master that stopped answering
            raise StorageError(f"Spark could not start (master {master or 'from spark-submit'}): "
                               f"{_first_line(made['error'])}. The Spark engine needs Java 17 or later (JAVA_HOME, "
                               "or java on PATH); Spark's own log above says more")
        spark = made["spark"]
        # The rendered SQL relies on both settings, so they are set again on a session spark-submit made.
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        spark.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        spark.sparkContext.setLogLevel("ERROR")
        return spark

    def run(self, readings: Readings, sql: str, frames: dict[str, pd.DataFrame], params: dict) -> pd.DataFrame:
        from pyspark.sql.types import StringType, StructField, StructType

        from pyspark.sql import functions as F

        spark = self.session()
        df = spark.read.option("basePath", readings.base).parquet(*map(spark_file, readings.files))
        # Filters on the partition columns: Spark lists only the folders that match (partition pruning).
        if readings.sites is not None:
            df = df.where(F.col("site").isin(list(readings.sites)))
        if readings.months is not None:
            df = df.where(F.col("month").isin(list(readings.months)))
        df.createOrReplaceTempView("readings")
        for name, frame in frames.items():
            # Small text frames (meter lists, zones): given as rows with a schema, so an empty one has columns too.
            schema = StructType([StructField(str(c), StringType(), True) for c in frame.columns])
            rows = [tuple(None if pd.isna(v) else str(v) for v in r) for r in frame.itertuples(index=False)]
            spark.createDataFrame(rows, schema).createOrReplaceTempView(name)
        with interruptible(self), _driver_limits():
            table = spark.sql(render(sql, self.name, **params)).toArrow()
        return naive(table.to_pandas())

    def run_tables(self, sql: str, tables: dict[str, pd.DataFrame], **params) -> pd.DataFrame:
        """Run ``sql`` where each of ``tables`` is a table of its name, handed to Spark as Arrow (no lake); text
        comes back as categories."""
        spark = self.session()
        with interruptible(self), _driver_limits(), _shuffle_partitions(spark):
            for name, frame in tables.items():
                spark.createDataFrame(arrow_table(frame)).createOrReplaceTempView(name)
            table = spark.sql(render(sql, self.name, **params)).toArrow()
        return naive(table.to_pandas(strings_to_categorical=True))

    def io_error(self, exc: BaseException) -> bool:
        return False


@contextmanager
def _shuffle_partitions(spark):
    """Tables handed over by the driver are in as many partitions as the application has cores; their GROUP BYs
    and joins shuffle into as many, not into Spark's default 200, whose task overhead made the purchase keys'
    grouping of 1M rows take 11 s instead of 2 s on two cores. A value the user set (``--conf``) is kept."""
    key = "spark.sql.shuffle.partitions"
    if spark.sparkContext.getConf().contains(key):
        yield
        return
    before = spark.conf.get(key)
    spark.conf.set(key, str(max(1, spark.sparkContext.defaultParallelism)))
    try:
        yield
    finally:
        spark.conf.set(key, before)


def server_engine() -> str | None:
    """The engine the server was told to use (``$ZEROCARBON_ENGINE``), or None. A value that is no engine is the
    server's setting to fix, not the caller's input."""
    value = os.environ.get(ENGINE_ENV, "").strip() or None
    if value is not None and value not in ENGINES:
        raise StorageError(f"the server setting {ENGINE_ENV}={value!r} is not an engine; set it to one of "
                           f"{', '.join(ENGINES)}, or leave it unset")
    return value


def _own_java_options() -> bool:
    """Whether the user gives the driver Java options (``$PYSPARK_SUBMIT_ARGS`` or spark-defaults.conf)."""
    if "extraJavaOptions" in os.environ.get("PYSPARK_SUBMIT_ARGS", ""):
        return True
    folder = os.environ.get("SPARK_CONF_DIR") or (os.path.join(os.environ["SPARK_HOME"], "conf")
                                                  if os.environ.get("SPARK_HOME") else None)
    try:
        return bool(folder) and "spark.driver.extraJavaOptions" in Path(folder, "spark-defaults.conf").read_text()
    except OSError:
        return False


@contextmanager
def interruptible(eng):
    """On Spark, Ctrl-C cancels the jobs, and KeyboardInterrupt is raised once the waiting call returns, whatever
    it raised. PySpark's own handler calls Spark from inside the interrupted call, on the same connection: that
    fails with tracebacks ("reentrant call"), and the job's error that follows read as bad input. A second
    Ctrl-C leaves at once. DuckDB raises KeyboardInterrupt itself."""
    if eng.name != "spark" or threading.current_thread() is not threading.main_thread():  # signals: main thread
        yield
        return
    spark = eng.session()
    hit, done = threading.Event(), threading.Event()

    def cancel() -> None:
        # Spark cancels the jobs running at the call only: a query still being planned submits its job after
        # it. So the jobs are cancelled again until the interrupted call has returned.
        while not done.is_set():
            spark.sparkContext.cancelAllJobs()
            done.wait(0.5)

    def on_sigint(signum, frame):
        if hit.is_set():
            raise KeyboardInterrupt
        hit.set()
        threading.Thread(target=cancel, name="spark-cancel", daemon=True).start()

    previous = signal.signal(signal.SIGINT, on_sigint)
    # a cancel interrupts the running tasks, not only the tasks still to start: Ctrl-C acts within seconds
    spark.sparkContext.setInterruptOnCancel(True)
    try:
        yield
    except Exception:
        if hit.is_set():
            raise KeyboardInterrupt from None
        raise
    finally:
        done.set()
        signal.signal(signal.SIGINT, previous)
    if hit.is_set():
        raise KeyboardInterrupt


@contextmanager
def _driver_limits():
    """A result or input bigger than the Spark driver may hold is a setting to change, said plainly."""
    try:
        yield
    except Exception as exc:
        text = str(exc)
        if "maxResultSize" in text:
            raise StorageError("the result is bigger than the Spark driver accepts (spark.driver.maxResultSize); "
                               "raise it, e.g. spark-submit --conf spark.driver.maxResultSize=4g, or "
                               "PYSPARK_SUBMIT_ARGS=\"--conf spark.driver.maxResultSize=4g pyspark-shell\" "
                               "(docs/spark.md)") from None
        if "OutOfMemoryError" in text or "Java heap space" in text:
            raise StorageError("the Spark driver ran out of memory; give it more with spark-submit --driver-memory "
                               "8g, or PYSPARK_SUBMIT_ARGS=\"--driver-memory 8g pyspark-shell\" (docs/spark.md)") \
                from None
        raise


def engine(name: str | None = None, master: str | None = None):
    """The engine called ``name`` (default DuckDB); ``master`` only applies to Spark."""
    name = name or "duckdb"
    if name == "duckdb":
        if master:
            raise InputError([Problem("--spark-master", None, None, "a Spark master is given but the engine is "
                                                                    "duckdb; add --engine spark")])
        return DuckDBEngine()
    if name == "spark":
        if master:
            check_master(master, "--spark-master")
        return SparkEngine(master)
    raise InputError([Problem("--engine", None, None, f"{name!r} is not an engine; one of {', '.join(ENGINES)}")])


def duckdb_file(path: str | Path) -> str:
    """``path`` as DuckDB must be given it to read that one file: its readers expand ``*``, ``?`` and ``[...]``
    in file names, so a file named ``r*.csv`` would also read its neighbours. Each of them is written as a
    one-character class, which matches only itself."""
    return re.sub(r"([*?\[])", r"[\1]", str(path))


def duckdb_literal(path: str | Path) -> str:
    """``duckdb_file(path)`` as an SQL string literal."""
    return "'" + duckdb_file(path).replace("'", "''") + "'"


def spark_file(path: str | Path) -> str:
    """``path`` as Spark must be given it to read that one file: Hadoop expands ``*``, ``?``, ``[...]`` and
    ``{a,b}`` in the paths it reads (a lake in ``lake[1]`` would read the one in ``lake1``); a backslash makes
    each of them, and itself, literal."""
    return re.sub(r"([\\*?\[\]{}])", r"\\\1", str(path))


def ordered_duckdb(temp: Path, memory_limit: str, threads: int | None = None):
    """A DuckDB connection for reading a file in its own order (UTC, insertion order kept), spilling to ``temp``
    within ``memory_limit`` on ``threads`` threads (default: every core)."""
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET threads = {int(threads or os.cpu_count() or 1)}")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")  # row numbers and the stream follow the file's order
    con.execute(f"SET temp_directory = '{temp.as_posix()}'")
    return con


class DuckDBWorkspace:
    """Tables and views kept between the queries of one multi-step job (the readings import) in one DuckDB
    connection; ``keep`` materialises a view the next steps read more than once."""

    engine = "duckdb"

    def __init__(self, temp: Path, memory_limit: str = "1GB"):
        self.con = ordered_duckdb(temp, memory_limit)

    def source(self, name: str, path: Path, first_row: int, delimiter: str | None = None) -> dict[str, str]:
        """The file as table ``name`` with ``record`` (its rows numbered from ``first_row``); returns each column's
        kind: text, instant (a timestamp with zone) or naive (without). DuckDB finds the delimiter itself."""
        p = duckdb_literal(path)
        if path.suffix.lower() == ".parquet":
            rel = f"(SELECT * EXCLUDE (file_row_number), file_row_number + {first_row} AS record " \
                  f"FROM read_parquet({p}, file_row_number = true))"
        else:
            rel = (f"(SELECT *, row_number() OVER () - 1 + {first_row} AS record "
                   f"FROM read_csv({p}, all_varchar = true, header = true))")
        self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM {rel}")
        kinds = {}
        for col, typ, *_ in self.con.execute(f"DESCRIBE {name}").fetchall():
            kinds[col] = ("instant" if typ == "TIMESTAMP WITH TIME ZONE" else "naive" if typ.startswith("TIMESTAMP")
                          else "text")
        return kinds

    def table(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(f"{name}_df", arrow_table(frame))
        self.con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {name}_df")

    def parquet(self, name: str, files: list[str]) -> None:
        listed = ", ".join(duckdb_literal(f) for f in files)
        self.con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet([{listed}])")

    def view(self, name: str, sql: str, keep: bool = False) -> None:
        kind = "TEMP TABLE" if keep else "VIEW"
        self.con.execute(f"CREATE OR REPLACE {kind} {name} AS {render(sql, self.engine)}")

    def query(self, sql: str) -> pd.DataFrame:
        return naive(self.con.execute(render(sql, self.engine)).df())

    def write(self, sql: str, folder: Path, partition: str) -> None:
        """The rows of ``sql`` as Parquet files under ``folder``/``partition``=N/, sorted by meter and ts."""
        self.con.execute(f"COPY ({render(sql, self.engine)} ORDER BY {partition}, meter, ts) TO "
                         f"'{folder.as_posix()}' (FORMAT parquet, PARTITION_BY ({partition}))")

    def close(self) -> None:
        self.con.close()


class SparkWorkspace:
    """The same as :class:`DuckDBWorkspace` on a Spark session: temporary views, ``keep`` persists a view's rows
    (memory, then local disk) until the job closes."""

    engine = "spark"

    def __init__(self, spark):
        self.spark = spark
        self.views: list[str] = []
        self.kept: list = []
        self._shuffle = _shuffle_partitions(spark)
        self._shuffle.__enter__()

    def source(self, name: str, path: Path, first_row: int, delimiter: str | None = None) -> dict[str, str]:
        """The file numbered in its own order. Parquet: Spark's own row index of the file. CSV: the file is read
        in splits, each a partition whose index grows with the split's place in the file, and
        ``monotonically_increasing_id`` numbers a partition's rows in order; the rows before each partition,
        counted in a first pass (a file is split the same way on every read), make the numbers consecutive."""
        from pyspark.sql import functions as F
        from pyspark.sql.types import TimestampNTZType, TimestampType

        if path.suffix.lower() == ".parquet":
            df = self.spark.read.parquet(spark_file(path))
        else:
            # Quotes as RFC 4180 and DuckDB have them: a quote inside a quoted field is doubled. A file with any
            # quote is read whole (multiLine), so a quoted line break stays inside its field as on DuckDB; a file
            # without, the usual meter export, keeps being read in parallel splits.
            reader = (self.spark.read.option("header", True).option("escape", '"')
                      .option("multiLine", _has_quote(path)))
            if delimiter:
                reader = reader.option("sep", delimiter)
            df = reader.csv(spark_file(path))
            # DuckDB's reader trims the header's names ("meter, timestamp"): the streaming path finds them so
            df = df.toDF(*[c.strip() for c in df.columns])
        kinds = {f.name: "instant" if isinstance(f.dataType, TimestampType)
                 else "naive" if isinstance(f.dataType, TimestampNTZType) else "text" for f in df.schema.fields}
        if path.suffix.lower() == ".parquet":
            self._register(name, df.withColumn("record", F.col("_metadata.row_index") + first_row))
            return kinds
        df = df.withColumn("_zc_part", F.spark_partition_id()).withColumn("_zc_id", F.monotonically_increasing_id())
        counts = sorted((r[0], r[1]) for r in df.groupBy("_zc_part").count().collect())
        before, offsets = 0, []
        for part, n in counts:
            offsets.append((part, before))
            before += n
        off = self.spark.createDataFrame(offsets or [(0, 0)], "_zc_part INT, _zc_before LONG")
        df = (df.join(F.broadcast(off), "_zc_part")
              .withColumn("record", F.col("_zc_before") + F.col("_zc_id") - F.shiftleft(F.col("_zc_part").cast("long"), 33)
                          + first_row)
              .drop("_zc_part", "_zc_id", "_zc_before"))
        self._register(name, df)
        return kinds

    def _keep(self, df):
        from pyspark import StorageLevel

        df = df.persist(StorageLevel.MEMORY_AND_DISK)
        self.kept.append(df)
        return df

    def _register(self, name: str, df) -> None:
        df.createOrReplaceTempView(name)
        self.views.append(name)

    def table(self, name: str, frame: pd.DataFrame) -> None:
        from pyspark.sql import functions as F

        self._register(name, F.broadcast(self.spark.createDataFrame(arrow_table(frame))))

    def parquet(self, name: str, files: list[str]) -> None:
        self._register(name, self.spark.read.parquet(*map(spark_file, files)))

    def view(self, name: str, sql: str, keep: bool = False) -> None:
        df = self.spark.sql(render(sql, self.engine))
        self._register(name, self._keep(df) if keep else df)

    def query(self, sql: str) -> pd.DataFrame:
        with _driver_limits():
            return naive(self.spark.sql(render(sql, self.engine)).toArrow().to_pandas())

    def write(self, sql: str, folder: Path, partition: str) -> None:
        df = self.spark.sql(render(sql, self.engine))
        # one file per partition, sorted by meter and time as the streaming path writes it
        (df.repartition(partition).sortWithinPartitions(partition, "meter", "ts")
         .write.partitionBy(partition).parquet(folder.as_posix()))

    def close(self) -> None:
        for df in self.kept:
            df.unpersist()
        for name in self.views:
            self.spark.catalog.dropTempView(name)
        self._shuffle.__exit__(None, None, None)


def _has_quote(path: Path) -> bool:
    with path.open("rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return False
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            return m.find(b'"') >= 0


def workspace(eng, temp: Path):
    """A workspace of ``eng`` (an engine of :func:`engine`) for a multi-step job."""
    return DuckDBWorkspace(temp) if eng.name == "duckdb" else SparkWorkspace(eng.session())
