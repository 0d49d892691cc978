"""NOC Intelligence backend: config, data, ingestion, intelligence, events. Never imports Dash."""
