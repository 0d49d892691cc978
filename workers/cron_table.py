"""The cron table, loaded by exactly one ``rq cron workers/cron_table.py`` process.

rq's cron reads registrations made when this file is loaded (that is its config format), so
this module registers at import by design; nothing else imports it. Cron strings use the
host's local time zone: run ``rq cron`` with TZ=UTC (the Procfile and launcher do)."""
from rq import cron

from backend.queues import QueueName
from workers.audit import audit_cron, enqueue_audits, tune_stale_baselines
from workers.demo import extend_demo_roster_daily
from workers.housekeeping import prune_event_logs
from workers.ml import retrain_stale_models
from workers.scoring import sweep_unscored

cron.register(prune_event_logs, queue_name=QueueName.DEFAULT.value, cron="17 3 * * *",
              name="prune-event-logs")
# Just after UTC midnight, when the demo roster's horizon moves on by a day.
cron.register(extend_demo_roster_daily, queue_name=QueueName.DEFAULT.value, cron="7 0 * * *",
              name="extend-demo-roster")
cron.register(sweep_unscored, queue_name=QueueName.DEFAULT.value, cron="* * * * *",
              name="sweep-unscored-checkins")
# A daily check with a weekly effect: it retrains tenants whose last training is over 7 days old.
cron.register(retrain_stale_models, queue_name=QueueName.ML.value, cron="41 4 * * *",
              name="retrain-stale-models")
# Site audits every NOC_AUDIT_INTERVAL_MINUTES; baseline tuning: daily check, weekly effect.
cron.register(enqueue_audits, queue_name=QueueName.AUDIT.value, cron=audit_cron(), name="audit-sites")
cron.register(tune_stale_baselines, queue_name=QueueName.ML.value, cron="53 4 * * *", name="tune-stale-baselines")
