"""The long-running streamer: a source of tweets -> records -> a batched Firehose producer with a spool."""
