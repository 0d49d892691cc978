"""The cron table, loaded by exactly one ``rq cron workers/cron_table.py`` process.

rq's cron reads registrations made when this file is loaded (that is its config format), so
this module registers at import by design; nothing else imports it. Cron strings use the
host's local time zone: run ``rq cron`` with TZ=UTC (the Procfile and launcher do)."""
from rq import cron

from backend.queues import QueueName
from workers.demo import extend_demo_roster_daily
from workers.housekeeping import prune_event_logs

cron.register(prune_event_logs, queue_name=QueueName.DEFAULT.value, cron="17 3 * * *",
              name="prune-event-logs")
# Just after UTC midnight, when the demo roster's horizon moves on by a day.
cron.register(extend_demo_roster_daily, queue_name=QueueName.DEFAULT.value, cron="7 0 * * *",
              name="extend-demo-roster")
