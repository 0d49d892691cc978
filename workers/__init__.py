"""RQ job functions (ids in, call a backend service), the cron table, worker entry points."""
