"""One plain reconciler class per AWS concern (bucket, logs, iam, firehose, ssm, ec2), behind ``InfraResource``."""
