"""A real Spark standalone cluster on loopback for the tests: one master and one worker started with the
``spark-class`` launcher that ships in the pyspark package, stopped when the test session ends.

Without Java the Spark tests skip on a developer's machine and fail under CI=true (``tests.services``).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services import require_service


@contextmanager
def local_spark(master: str = "local[2]"):
    """The Spark engine in this process on loopback (needs Java), stopped and the environment restored after."""
    from zerocarbon.store import engines

    java_or_fail()
    saved = {k: os.environ.get(k) for k in ("SPARK_LOCAL_IP", "PYSPARK_PYTHON")}
    os.environ.update({k: v for k, v in spark_env().items() if k in saved})
    engine = engines.engine("spark", master)
    try:
        yield engine
    finally:
        engine.session().stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def java_or_fail() -> None:
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        require_service("Java", "the Spark engine needs Java 17 or later (apt-get install openjdk-17-jre-headless)")


def spark_home() -> Path:
    import pyspark
    return Path(pyspark.__file__).parent


def spark_env(**extra: str) -> dict[str, str]:
    """Driver, executors and daemons on loopback, executors with this interpreter (the venv's packages)."""
    return {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": "127.0.0.1",
            "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
            "SPARK_LOG_DIR": extra.pop("SPARK_LOG_DIR", "/tmp"), **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    url: str
    ui: str
    logs: Path

    def submit(self, args: list[str], timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
        """``spark-submit --master <this cluster>`` of the zerocarbon Spark entry with ``args``."""
        from zerocarbon.spark import SCRIPT
        cmd = [str(spark_home() / "bin" / "spark-submit"), "--master", self.url,
               "--conf", "spark.executor.memory=512m", "--conf", "spark.driver.memory=512m",
               "--conf", "spark.ui.enabled=false", str(SCRIPT), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=spark_env(SPARK_LOG_DIR=str(self.logs), **env))


def start(folder: Path, workers: int = 1, timeout: float = 120):
    """Start a master and ``workers`` workers (1 core, 1 GiB each); yields the :class:`Cluster`."""
    java_or_fail()
    folder.mkdir(parents=True, exist_ok=True)
    port, ui = _free_port(), _free_port()
    launcher = str(spark_home() / "bin" / "spark-class")
    env = spark_env(SPARK_LOG_DIR=str(folder), SPARK_WORKER_DIR=str(folder / "work"))
    procs = []
    logs = []
    try:
        log = open(folder / "master.log", "w")
        logs.append(log)
        procs.append(subprocess.Popen([launcher, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                                       "--port", str(port), "--webui-port", str(ui)], stdout=log,
                                      stderr=subprocess.STDOUT, env=env))
        url = f"spark://127.0.0.1:{port}"
        for i in range(workers):
            log = open(folder / f"worker-{i}.log", "w")
            logs.append(log)
            procs.append(subprocess.Popen([launcher, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                                           "--cores", "1", "--memory", "1g", "--webui-port", str(_free_port()),
                                           url], stdout=log, stderr=subprocess.STDOUT, env=env))
        deadline = time.monotonic() + timeout
        alive = 0
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2) as r:
                    alive = json.load(r).get("aliveworkers", 0)
            except OSError:
                alive = 0
            if alive >= workers:
                break
            time.sleep(0.5)
        if alive < workers:
            text = "\n".join((folder / f).read_text()[-2000:] for f in os.listdir(folder) if f.endswith(".log"))
            raise RuntimeError(f"the Spark cluster did not come up ({alive} of {workers} workers):\n{text}")
        yield Cluster(url, f"http://127.0.0.1:{ui}", folder)
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in logs:
            log.close()
