"""storysift's pipeline: options, assembly of the stages, and the command line."""

import logging


def _not_beams_apitools_notice(record: logging.LogRecord) -> bool:
    # `import apache_beam` (2.77) logs this through the root logger whenever Google's apitools is
    # not installed, which is always for us (no GCP extra; BigQuery is never used), so every run
    # would open with a warning about a library nobody asked for. Only that one message is dropped.
    return not record.getMessage().startswith("apitools not found, and bigquery client libraries")


logging.getLogger().addFilter(_not_beams_apitools_notice)
