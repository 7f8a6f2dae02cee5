"""The default local runner: Beam's DirectRunner without its Prism download.

Beam 2.77's DirectRunner first tries PrismRunner, which downloads a Go binary; offline
that fails, and on a network that drops packets it can hang. This runner goes straight
to the FnApiRunner (the DirectRunner's batch engine, which honours
--direct_num_workers and --direct_running_mode); a streaming pipeline, which the
FnApiRunner cannot run, goes to the bundle-based runner.
"""

from __future__ import annotations

from apache_beam.runners.direct.direct_runner import BundleBasedDirectRunner, DirectRunner

LOCAL_RUNNER_NAMES = {None, "", "DirectRunner", "direct", "OfflineDirectRunner"}


class OfflineDirectRunner(DirectRunner):
    """DirectRunner that never attempts PrismRunner (and so never downloads anything)."""

    def is_fnapi_compatible(self):
        # Beam otherwise "tests" the pipeline by a round trip through its protos before running
        # it (seconds for our few hundred transforms); the FnApiRunner translates it anyway.
        return True

    def run_pipeline(self, pipeline, options):
        from apache_beam.options.pipeline_options import StandardOptions
        from apache_beam.portability.api import beam_provision_api_pb2
        from apache_beam.runners.portability.fn_api_runner import fn_runner
        from apache_beam.runners.portability.portable_runner import JobServiceHandle

        if options.view_as(StandardOptions).streaming:  # the FnApiRunner is batch-only
            return BundleBasedDirectRunner().run_pipeline(pipeline, options)
        encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
        provision_info = fn_runner.ExtendedProvisionInfo(
            beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded)
        )
        return fn_runner.FnApiRunner(provision_info=provision_info).run_pipeline(pipeline, options)


def runner_for(name: str | None):
    """The runner object to hand to beam.Pipeline: ours for local runs, else Beam's by name."""
    if name in LOCAL_RUNNER_NAMES:
        return OfflineDirectRunner()
    return name
