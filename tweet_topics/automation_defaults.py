"""What runs by itself: sensors and schedules are on by default in production (TWEET_TOPICS_ENV=prod) and off
locally, where a laptop should not process by itself (turn them on in the UI's Automation tab)."""

import dagster as dg

from tweet_topics.settings import get_settings


def default_sensor_status() -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if get_settings().env == "prod" else dg.DefaultSensorStatus.STOPPED


def default_schedule_status() -> dg.DefaultScheduleStatus:
    return dg.DefaultScheduleStatus.RUNNING if get_settings().env == "prod" else dg.DefaultScheduleStatus.STOPPED
