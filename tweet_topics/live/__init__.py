"""Live topics: a Spark Structured Streaming query that scores raw Firehose objects as they land (docs/live.md)."""
