"""gunicorn settings (auto-loaded from the working directory by gunicorn 27).

gthread workers: each open WebSocket pins one thread for its life, so a sync worker would
block everything behind a socket (see STACK.md)."""
import os

bind = f"{os.environ.get('WEB_HOST', '0.0.0.0')}:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "32"))
worker_connections = threads
timeout = 60
graceful_timeout = 10
control_socket_disable = True  # gunicorn 27 would otherwise create a control socket in $HOME
accesslog = os.environ.get("WEB_ACCESS_LOG") or None
