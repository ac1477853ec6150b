#!/bin/bash
# EC2 user-data for the streamer instance (rendered by tweet_topics.defs.infra.aws_resources.render_user_data).
# No SSH: the instance is managed through SSM (the AmazonSSMManagedInstanceCore policy on its role).
set -euo pipefail
dnf install -y python3.11 python3.11-pip
id streamer >/dev/null 2>&1 || useradd --system --create-home streamer
python3.11 -m venv /opt/tweet-topics/venv
/opt/tweet-topics/venv/bin/pip install --quiet '{{PACKAGE}}'
mkdir -p /etc/tweet-topics
cat > /etc/tweet-topics/streamer.env <<ENV
TWEET_TOPICS_ENV={{ENV}}
TWEET_TOPICS_REGION={{REGION}}
TWEET_TOPICS_BUCKET={{BUCKET}}
TWEET_TOPICS_FIREHOSE_STREAM={{STREAM}}
TWEET_TOPICS_X_BEARER_PARAMETER={{BEARER_PARAMETER}}
ENV
cat > /etc/systemd/system/tweet-topics-streamer.service <<'UNIT'
{{SYSTEMD_UNIT}}
UNIT
systemctl daemon-reload
systemctl enable --now tweet-topics-streamer
