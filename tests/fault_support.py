"""What the process-fault tests share: the real `zerocarbon` commands as subprocesses (killed with SIGKILL), a
private Mosquitto with the deploy/ persistence settings on a free port, and waiting for states.

Run as a module, this file is `zerocarbon` itself with one fault hook installed first:

    python -m tests.fault_support --pause-before-commit import_batches --marker FILE -- serve --port 8123 ...

holds the first database transaction that wrote into the named table just before its COMMIT (all its rows
written, none committed), writes FILE and sleeps, so a test can SIGKILL the process exactly there.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.test_mqtt import _free_port as free_port
from tests.test_mqtt import _mosquitto

ROOT = Path(__file__).parents[1]
# Mosquitto as deploy/mosquitto.conf sets it for zero loss (persistent queues without a limit), without the
# passwords, ACL and TLS of a production broker, and without its save after every change (autosave_on_changes),
# which a test killing the broker adds as ``extra``.
# ``user``: run as root, Mosquitto drops to the user "mosquitto", which cannot write the test's folder and then
# keeps nothing across a restart ("Error saving in-memory database ... Permission denied" in its log).
MOSQUITTO_CONF = ("listener {port} 127.0.0.1\nuser {user}\nallow_anonymous true\npersistence true\n"
                  "persistence_location {folder}/\nmax_queued_messages 0\nmax_queued_bytes 0\n")


def until(check, seconds: float = 30.0, every: float = 0.05, what: str = "the state"):
    """Poll ``check`` until it returns something true; its value, or AssertionError after ``seconds``."""
    end = time.monotonic() + seconds
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError(f"{what} not reached within {seconds:g} s")
        time.sleep(every)


def environment(**extra: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]))
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


@dataclass
class Command:
    """A `zerocarbon` subprocess in a session of its own (its children die with it at ``kill_group``)."""

    proc: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def sigkill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL of the whole group if it does not end."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.poll() is None:
            self.proc.wait(5)


def zerocarbon(args: list[str], log: Path, *, env: dict | None = None, pause_table: str | None = None,
               marker: Path | None = None) -> Command:
    """Start `zerocarbon ARGS` (optionally with the pause-before-commit hook), output to ``log``."""
    cmd = [sys.executable, "-m", "tests.fault_support"]
    if pause_table:
        cmd += ["--pause-before-commit", pause_table, "--marker", str(marker)]
    cmd += ["--", *args]
    out = log.open("ab")
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env or environment(), cwd=ROOT,
                            start_new_session=True)
    out.close()
    return Command(proc, log)


def serve(db: str, port: int, log: Path, env: dict, **hook) -> Command:
    """`zerocarbon serve` as one process (its jobs run in its embedded executor), answering once it is up."""
    cmd = zerocarbon(["serve", "--port", str(port), "--db", db, "--workers", "1"], log, env=env, **hook)
    wait_port(port, cmd, 90)
    return cmd


def wait_port(port: int, cmd: Command | None = None, seconds: float = 30.0) -> None:
    def up():
        if cmd is not None and cmd.proc.poll() is not None:
            raise AssertionError(f"the process ended ({cmd.proc.returncode}): {cmd.output()[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            return False
    until(up, seconds, 0.1, f"port {port} open")


# --- a private Mosquitto --------------------------------------------------------------------------------------

@dataclass
class Broker:
    exe: str
    folder: Path
    port: int
    proc: subprocess.Popen | None = None
    extra: str = ""  # further configuration lines

    def start(self) -> Broker:
        conf = self.folder / "mosquitto.conf"
        import getpass

        conf.write_text(MOSQUITTO_CONF.format(port=self.port, folder=self.folder, user=getpass.getuser()) + self.extra)
        self.proc = subprocess.Popen([self.exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=(self.folder / "mosquitto.log").open("ab"))
        wait_port(self.port, None, 10)
        return self

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@contextmanager
def private_broker(folder: Path, extra: str = ""):
    """A Mosquitto of the test's own (it is killed and restarted, so the machine's broker will not do)."""
    from tests.services import require_service

    exe = _mosquitto()
    if exe is None:
        require_service("Mosquitto", "the mosquitto executable is needed to start a private broker")
    folder.mkdir(parents=True, exist_ok=True)
    broker = Broker(exe, folder, free_port(), extra=extra).start()
    try:
        yield broker
    finally:
        broker.stop()


# --- the fault hook ---------------------------------------------------------------------------------------------

def _install_pause(table: str, marker: Path) -> None:
    """Before the COMMIT of the first transaction that inserted into ``table``: write ``marker``, sleep."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    needle = f"insert into {table}".lower()

    @event.listens_for(Engine, "before_cursor_execute")
    def seen(conn, cursor, statement, parameters, context, executemany):
        if needle in " ".join(statement.lower().replace('"', "").split()):
            conn.info["fault_wrote"] = True

    @event.listens_for(Engine, "commit")
    def pause(conn):
        if conn.info.pop("fault_wrote", False) and not marker.exists():
            marker.write_text(str(os.getpid()))
            time.sleep(3600)


def main(argv: list[str]) -> None:
    split = argv.index("--")
    own, rest = argv[:split], argv[split + 1:]
    if "--pause-before-commit" in own:
        _install_pause(own[own.index("--pause-before-commit") + 1], Path(own[own.index("--marker") + 1]))
    from zerocarbon.cli import main as cli

    sys.argv = ["zerocarbon", *rest]
    cli()


if __name__ == "__main__":
    main(sys.argv[1:])
