"""The one place where ``TWEET_TOPICS_ENV`` picks resources; asset code never branches on it."""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pydantic import PrivateAttr

from tweet_topics.defs.alerts.sensors import AlertSettings
from tweet_topics.defs.infra.deployment import Deployment
from tweet_topics.defs.infra.resource import InfraResource
from tweet_topics.defs.live.resources import Ec2LiveHost, LiveState, LocalLiveHost
from tweet_topics.defs.streaming.resources import Ec2StreamerHost, LocalStreamerHost, StreamerState
from tweet_topics.defs.streaming.sensors import SupervisorSettings
from tweet_topics.local.environment import local_driver_java_options
from tweet_topics.settings import Settings
from tweet_topics.storage.catalog import Storage
from tweet_topics.storage.s3 import AwsResource


class EagerSparkResource(LazyPySparkResource):
    """``LazyPySparkResource`` whose session starts in a background thread when a step that takes it sets up.

    Why: launching the JVM and the SparkContext is seconds of a topic run; started at resource setup it overlaps
    the step's own start-up (event log, compute-log capture, the S3 listing before Spark is needed) instead of
    following it (issue 27). Steps without this resource start no JVM; a failed start is raised by the step's
    own first use of the session, not by the thread.
    """

    _starter: threading.Thread | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._starter = threading.Thread(target=self._start, name="spark-session-start", daemon=True)
        self._starter.start()

    def _start(self) -> None:
        try:
            super()._init_session()
        except Exception:  # the step's first use of the session raises it
            return

    def _init_session(self) -> None:
        starter = self._starter
        if starter is not None and starter is not threading.current_thread():
            starter.join()
        super()._init_session()


def spark_config(settings: Settings) -> dict[str, Any]:
    """Spark settings: ``local[*]`` on loopback locally; any cluster master in prod."""
    config: dict[str, Any] = {
        "spark.master": settings.spark_master,
        "spark.app.name": f"{settings.project}-{settings.env}",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "8",
        # One Python worker pool for SQL (mapInArrow) and RDD tasks: Spark keys its pools by the workers'
        # environment, and this flag is the one difference, so a topic run started (and imported numpy, pyarrow,
        # boto3 into) every worker twice (issue 27). The cost: Python UDF errors keep their full traceback.
        "spark.sql.execution.pyspark.udf.simplifiedTraceback.enabled": "false",
    }
    if settings.env == "local":
        config.update(
            {
                "spark.driver.memory": settings.spark_driver_memory,
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.ui.enabled": "false",
                "spark.ui.showConsoleProgress": "false",
                # The JIT's first tier only: on 2 cores C2's compiler threads competed with a short run's start
                # (session + first SQL plans ~1.5x faster, measured, issue 27); the heavy numeric work is numpy
                # in the Python workers, not JIT-compiled JVM code. With the class-data-sharing archive that
                # `make install` builds (local/jvm_archive.py), when there is one for this JDK, Spark and conf dir.
                "spark.driver.extraJavaOptions": local_driver_java_options("-XX:TieredStopAtLevel=1"),
                # Python workers use this interpreter (with the project's packages), not python3 on PATH.
                "spark.pyspark.python": sys.executable,
                "spark.pyspark.driver.python": sys.executable,
            }
        )
    return config


def build_resources(settings: Settings) -> dict[str, Any]:
    aws = AwsResource.from_settings(settings)
    storage = Storage.from_settings(settings, aws)
    token = dg.EnvVar("TWEET_TOPICS_X_BEARER_TOKEN") if os.environ.get("TWEET_TOPICS_X_BEARER_TOKEN") else None
    deployment = Deployment.from_settings(settings, bearer_token=token)
    streamer_state = StreamerState(storage=storage)
    live_state = LiveState(storage=storage)
    host = (
        LocalStreamerHost(aws=aws, local_dir=str(settings.local_dir))
        if settings.env == "local"
        else Ec2StreamerHost(
            aws=aws,
            state=streamer_state,
            instance_name=deployment.instance_name,
            owner_tags=deployment.tags,
            document_name=deployment.control_document,
        )
    )
    live_host = (
        LocalLiveHost(aws=aws, local_dir=str(settings.local_dir), trigger_seconds=settings.live_trigger_seconds)
        if settings.env == "local"
        else Ec2LiveHost(  # its own host with a JDK: the streamer's t3.micro cannot hold a Spark driver
            aws=aws,
            state=live_state,
            instance_name=deployment.live_instance_name,
            owner_tags=deployment.tags,
            document_name=deployment.live_control_document,
        )
    )
    return {
        "infra": InfraResource(
            aws=aws,
            deployment=deployment,
            buffer_interval_s=settings.firehose_buffer_seconds,
            original_expiration_days=settings.original_expiration_days,
        ),
        "streamer_host": host,
        "streamer_state": streamer_state,
        "supervisor": SupervisorSettings(),
        "aws": aws,
        "storage": storage,
        "live_state": live_state,
        "live_host": live_host,
        "pyspark": EagerSparkResource(spark_config=spark_config(settings)),
        "alerting": AlertSettings(ui_base_url=settings.ui_base_url, publish_warn=settings.alert_warn),
    }
