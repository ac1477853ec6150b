#!/bin/bash
# EC2 user-data for the live query's host (tweet_topics/live), rendered by
# tweet_topics.defs.infra.userdata.render_live_user_data from this package-data file. Not the streamer's t3.micro:
# the query needs a JDK and a Spark driver. Every substituted value is validated and shell-quoted before it lands
# here. No SSH: the instance is managed through SSM (its own control document, tweet-topics-live only).
set -euo pipefail
umask 022
dnf install -y python3.11 python3.11-pip java-17-amazon-corretto-headless
id tweet-topics-live >/dev/null 2>&1 || useradd --system --create-home tweet-topics-live
python3.11 -m venv /opt/tweet-topics/venv
{{INSTALL_PACKAGE}}
mkdir -p /etc/tweet-topics
cat > /etc/tweet-topics/live.env <<'ENV'
{{ENVIRONMENT}}
ENV
cat > /etc/systemd/system/tweet-topics-live.service <<'UNIT'
{{SYSTEMD_UNIT}}
UNIT
systemctl daemon-reload
systemctl enable --now tweet-topics-live
