"""Run one coverage-guided (atheris/libFuzzer) fuzz target of fuzz/targets.py.

    python fuzz/run.py TARGET [--runs N | --seconds S] [--corpus DIR] [-- libFuzzer flags]
    python fuzz/run.py --list

The seeds are the example files of the repository; inputs that crash are written to
tests/data/fuzz/TARGET/ (replayed by tests/test_fuzz_importers.py::test_found_cases_stay_fixed).
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]


INSTRUMENTED = ("errors", "units", "core.safe_yaml", "core.energy.intervals", "core.assessment.index",
                "core.pathway.scenario", "core.factors", "io.tables", "io.schemas", "io.pact", "io.schedule_files",
                "io.mqtt", "io.credit_files", "io.disclosure_inputs", "io.org", "io.meter_files", "io.energy_inputs",
                "io.intensity_series", "services.accounting", "services.claims", "services.suppliers",
                "services.footprints", "services.assessment", "services.disclosure", "services.factor_sets",
                "services.targets", "services.scheduling", "services.pathway", "services.ingest",
                "services.meter_import")


def main(target: str | None = None, argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    if target is None:
        ap.add_argument("target", nargs="?")
    ap.add_argument("--runs", type=int, help="stop after this many inputs")
    ap.add_argument("--seconds", type=int, help="stop after this many seconds")
    ap.add_argument("--corpus", type=Path, help="working corpus folder (default: a temporary folder)")
    ap.add_argument("--timeout", type=int, default=30, help="seconds after which one input counts as a hang")
    ap.add_argument("--list", action="store_true", help="list the targets")
    ap.add_argument("libfuzzer", nargs="*", help="flags passed on to libFuzzer (after --)")
    args = ap.parse_args(argv)
    target = target or args.target

    import atheris

    import importlib

    with atheris.instrument_imports(include=["zerocarbon"]):
        from fuzz import targets as T
        # Instrument what the targets reach: their modules are imported inside the block.
        for module in INSTRUMENTED:
            importlib.import_module(f"zerocarbon.{module}")

    if args.list or not target:
        for t in T.TARGETS.values():
            print(f"{t.name:15} {t.about}")
        return
    if target not in T.TARGETS:
        sys.exit(f"unknown target {target!r}; one of: {', '.join(T.TARGETS)}")
    t = T.TARGETS[target]
    t.run(t.seeds()[0])  # open the database before fuzzing so setup is not counted as a slow input

    crashes = T.CORPUS / target
    crashes.mkdir(parents=True, exist_ok=True)
    corpus = args.corpus or Path(tempfile.mkdtemp(prefix=f"zc-fuzz-{target}-"))
    corpus.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(t.seeds()):
        (corpus / f"seed-{i}").write_bytes(seed)
    flags = [sys.argv[0], str(corpus), f"-artifact_prefix={crashes}/", f"-timeout={args.timeout}",
             "-rss_limit_mb=3072", "-max_len=65536"]
    if args.runs:
        flags.append(f"-runs={args.runs}")
    if args.seconds:
        flags.append(f"-max_total_time={args.seconds}")
    flags += args.libfuzzer

    def one(data: bytes) -> None:
        t.run(data)

    atheris.Setup(flags, one)
    try:
        atheris.Fuzz()
    finally:
        if args.corpus is None:
            shutil.rmtree(corpus, ignore_errors=True)


if __name__ == "__main__":
    main()
