"""Authentication: users and roles, API and wallboard tokens, the request guard."""
