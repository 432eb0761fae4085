"""Under CI=true a missing PostgreSQL or Mosquitto fails the run instead of skipping it."""
import subprocess
import sys
import textwrap


def _run(tmp_path, ci: str) -> subprocess.CompletedProcess:
    test = tmp_path / "test_needs_server.py"
    test.write_text(textwrap.dedent("""
        from tests.services import require_service

        def test_needs_server():
            require_service("PostgreSQL", "not reachable at 127.0.0.1:1 (deliberately)")
    """))
    import os
    from pathlib import Path
    root = Path(__file__).parents[1]
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(root) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
                          cwd=tmp_path, env=env, capture_output=True, text=True)


def test_missing_service_fails_under_ci(tmp_path):
    r = _run(tmp_path, "true")
    assert r.returncode == 1 and "1 failed" in r.stdout, r.stdout


def test_missing_service_skips_on_a_developer_machine(tmp_path):
    r = _run(tmp_path, "")
    assert r.returncode == 0 and "1 skipped" in r.stdout, r.stdout
