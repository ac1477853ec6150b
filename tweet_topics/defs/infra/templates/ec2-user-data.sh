#!/bin/bash
# EC2 user-data for the streamer instance, rendered by tweet_topics.defs.infra.userdata.render_user_data from this
# package-data file (deploy/ and provision_infra read the same file). Every substituted value is validated and
# shell-quoted before it lands here. No SSH: the instance is managed through SSM (AmazonSSMManagedInstanceCore).
set -euo pipefail
umask 022
dnf install -y python3.11 python3.11-pip
id streamer >/dev/null 2>&1 || useradd --system --create-home streamer
python3.11 -m venv /opt/tweet-topics/venv
{{INSTALL_PACKAGE}}
mkdir -p /etc/tweet-topics
cat > /etc/tweet-topics/streamer.env <<'ENV'
{{ENVIRONMENT}}
ENV
cat > /etc/systemd/system/tweet-topics-streamer.service <<'UNIT'
{{SYSTEMD_UNIT}}
UNIT
systemctl daemon-reload
systemctl enable --now tweet-topics-streamer
