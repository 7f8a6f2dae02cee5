"""Airflow DAG: run storysift every night over the previous day's crawl.

Needs `apache-airflow-providers-apache-beam[google]` on the Airflow workers (provider 6.x refuses
to build any Beam operator without the Google provider, even for the DirectRunner) and storysift
installed in the interpreter named by STORYSIFT_PYTHON (`pip install` this repository into a
venv there; the image of deploy/container/ holds the same install).

The operator runs `STORYSIFT_PYTHON -m pipeline --runner=... --input=... --date=<ds> ...`:
our CLI fills `{date}` in --input/--output from --date (Airflow's Jinja does not touch single
braces), accepts option names spelled with underscores, and hands every option it does not know
(the `--labels=airflow-version=...` the operator always adds, the Dataflow options) to Beam.
Reruns are idempotent: the same date gives byte-identical output and --overwrite replaces what a
failed attempt left. Exit code 2 (bad usage, no input) fails the task; 1 (the run failed) too,
and the task's retries run it again.
"""

from __future__ import annotations

import datetime
import os

from airflow.providers.apache.beam.operators.beam import BeamRunPythonPipelineOperator

try:  # Airflow 3
    from airflow.sdk import DAG
except ImportError:  # Airflow 2
    from airflow import DAG

CRAWL = os.environ.get("STORYSIFT_CRAWL", "gs://example-crawl")  # one folder per day: CRAWL/2026-11-28/
CORPUS = os.environ.get("STORYSIFT_CORPUS", "gs://example-corpus/storysift")
STORYSIFT_PYTHON = os.environ.get("STORYSIFT_PYTHON", "/opt/storysift/venv/bin/python")
RUNNER = os.environ.get("STORYSIFT_RUNNER", "DirectRunner")  # or DataflowRunner (+ dataflow_config)
# Deduplicate against the previous day's output (its stories, and the runs it was run against):
# a story already published yesterday goes to duplicates/. Set to 0 for the very first run, when
# there is no previous output yet (--against a missing output is a usage error, exit code 2).
AGAINST_PREVIOUS = os.environ.get("STORYSIFT_AGAINST_PREVIOUS", "1") == "1"

pipeline_options = {
    # `ds` is the run's logical date: the day whose crawl this run reads.
    "date": "{{ ds }}",
    "input": [f"{CRAWL}/{{date}}/*.jsonl.gz", f"{CRAWL}/{{date}}/*.txt.gz"],
    "output": f"{CORPUS}/{{date}}",
    "format": "jsonl",
    "compression": "gzip",
    "shard_size": "256MB",
    "overwrite": True,  # a retry replaces what a failed attempt left
    "log_level": "INFO",
}
if AGAINST_PREVIOUS:
    pipeline_options["against"] = f"{CORPUS}/{{{{ macros.ds_add(ds, -1) }}}}"

with DAG(
    dag_id="storysift_nightly",
    description="Clean, deduplicated story corpus from the previous day's crawl",
    schedule="30 3 * * *",  # 03:30 UTC, once the day's crawl is complete
    start_date=datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": datetime.timedelta(minutes=20)},
    tags=["storysift", "corpus"],
) as dag:
    storysift = BeamRunPythonPipelineOperator(
        task_id="storysift",
        runner=RUNNER,
        py_interpreter=STORYSIFT_PYTHON,
        py_options=["-m"],
        py_file="pipeline",  # `python -m pipeline` is the storysift command
        pipeline_options=pipeline_options,
    )
