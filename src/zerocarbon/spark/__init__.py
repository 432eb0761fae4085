"""The entry for ``spark-submit``: the bulk commands run as Spark applications (docs/spark.md).

``python -m zerocarbon.spark JOB ARGS`` and ``spark-submit [options] <this folder>/__main__.py JOB ARGS`` run the
same command as ``zerocarbon meters JOB ARGS --engine spark`` (``inventory``: ``zerocarbon inventory compute``): the
same options, outputs and errors. Under
``spark-submit`` the master and resources are the ones given to ``spark-submit``: ``$ZEROCARBON_SPARK_MASTER`` is
not read there, and a ``--spark-master`` among the job's arguments is refused.
"""
import sys
from pathlib import Path

#: job name -> the command it runs
JOBS = {"import": ["meters", "import"], "rollup": ["meters", "rollup"], "kpis": ["meters", "kpis"],
        "to-activity": ["meters", "to-activity"], "inventory": ["inventory", "compute"]}
SCRIPT = Path(__file__).with_name("__main__.py")

USAGE = (f"usage: python -m zerocarbon.spark JOB [ARGS...]\n"
         f"   or: spark-submit --master URL {SCRIPT} JOB [ARGS...]\n"
         f"JOB is one of: {', '.join(JOBS)}; ARGS are those of `zerocarbon meters JOB --help`\n"
         f"(inventory: `zerocarbon inventory compute --help`).\n"
         f"`python -m zerocarbon.spark script` prints the path to give spark-submit.")


def _help(job: str) -> str:
    """The help of the command a job runs, without --engine (a job always sets it) and under the job's name."""
    import copy

    import click
    import typer.main

    from zerocarbon.cli import app

    command = typer.main.get_command(app)
    for name in JOBS[job]:
        command = command.commands[name]
    shown = copy.copy(command)
    # --engine is the job's own; gap filling is the careful path's, never a Spark job's
    shown.params = [_job_param(p) for p in command.params
                     if p.name != "engine" and not (job == "import" and p.name == "fill")]
    return shown.get_help(click.Context(shown, info_name=f"python -m zerocarbon.spark {job}"))


def _job_param(param):
    """The option as a job has it: ``--spark-master`` without the command's "only with --engine spark"."""
    import copy

    if param.name != "spark_master":
        return param
    param = copy.copy(param)
    param.help = ("Spark master URL, e.g. spark://host:7077 (default $ZEROCARBON_SPARK_MASTER, else local[*]); "
                  "refused under spark-submit, whose --master decides")
    return param


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(USAGE, file=sys.stderr)
        return 2
    if argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    if argv[0] == "script":
        print(SCRIPT)
        return 0
    job, rest = argv[0], argv[1:]
    if job not in JOBS:
        print(f"error: {job!r} is not a job; one of {', '.join(JOBS)}\n{USAGE}", file=sys.stderr)
        return 2
    if any(a == "--engine" or a.startswith("--engine=") for a in rest):
        print("error: a Spark job always runs with --engine spark; leave --engine out", file=sys.stderr)
        return 2
    from zerocarbon.cli import app

    if any(a in ("-h", "--help") for a in rest):
        print(f"Job {job}: runs `zerocarbon {' '.join(JOBS[job])} ARGS --engine spark`; under spark-submit the "
              "master is spark-submit's, so --spark-master is refused there.")
        print(_help(job))
        return 0
    try:
        # Its help is that command's own ("zerocarbon meters rollup [OPTIONS]"), as its options are.
        app([*JOBS[job], *rest, "--engine", "spark"], prog_name="zerocarbon")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0
