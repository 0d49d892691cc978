"""Read queries for the UI: every function takes the session and the ``Principal`` explicitly
and returns display-ready schemas (never ORM rows), so pages and components stay SQL-free."""
