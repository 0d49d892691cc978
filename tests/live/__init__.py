"""The live channel (/ws) end to end: real gunicorn gthread processes, real PostgreSQL and Redis."""
