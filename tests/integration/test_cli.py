"""The admin CLI: tenants, users and tokens, through the real commands."""
from __future__ import annotations

import uuid

from flask import Flask

from backend.auth.tokens import tenant_of_api_token
from backend.auth.users import authenticate
from backend.runtime import Runtime
from backend.tenancy import tenant_by_slug


def test_tenant_user_and_token_commands(app: Flask, pg_runtime: Runtime) -> None:
    cli = app.test_cli_runner()
    slug = f"cli-{uuid.uuid4().hex[:8]}"
    assert cli.invoke(args=["tenant", "create", slug, "CLI Guarding"]).exit_code == 0
    created = cli.invoke(args=["user", "create", slug, "Ops@Example.test", "--name", "Ops",
                               "--role", "supervisor", "--password", "long-enough-pw"])
    assert created.exit_code == 0, created.output
    token_run = cli.invoke(args=["token", "create", slug, "--name", "gates"])
    assert token_run.exit_code == 0, token_run.output
    token = token_run.output.strip().splitlines()[-1]  # the secret is the last line

    with pg_runtime.read() as session:
        tenant = tenant_by_slug(session, slug)
        assert tenant is not None
        assert tenant_of_api_token(session, token) == tenant.id
        principal = authenticate(session, "ops@example.test", "long-enough-pw")
        assert principal is not None and principal.tenant_id == tenant.id and principal.role == "supervisor"

    short = cli.invoke(args=["user", "create", slug, "x@example.test", "--name", "X",
                             "--role", "viewer", "--password", "short"])
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    unknown = cli.invoke(args=["token", "create", "no-such-tenant"])
    assert unknown.exit_code != 0 and "no tenant with slug" in unknown.output
