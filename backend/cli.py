"""``flask --app app …`` commands: database, tenants, users, tokens, the demo world."""
from __future__ import annotations

from collections.abc import Callable

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from backend.auth.tokens import create_api_token, create_wallboard_token
from backend.auth.users import create_user
from backend.enums import Role
from backend.migrate import upgrade_database
from backend.ml.cli import ml_cli
from backend.runtime import Runtime
from backend.simulator.cli import demo_cli
from backend.tenancy import create_tenant, tenant_by_slug


def _runtime() -> Runtime:
    return current_app.extensions["noc_runtime"]


def _tenant_id(session: Session, slug: str) -> int:
    tenant = tenant_by_slug(session, slug)
    if tenant is None:
        raise click.BadParameter(f"no tenant with slug {slug!r}", param_hint="TENANT_SLUG")
    return tenant.id


db_cli = AppGroup("db", help="Database schema.")
tenant_cli = AppGroup("tenant", help="Tenants.")
user_cli = AppGroup("user", help="Users who log into the UI.")
token_cli = AppGroup("token", help="API tokens for devices and integrations.")
wallboard_cli = AppGroup("wallboard", help="Read-only tokens for wall displays.")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema."""
    upgrade_database(_runtime().engine)
    click.echo("database is up to date")


@tenant_cli.command("create")
@click.argument("slug")
@click.argument("name")
def tenant_create(slug: str, name: str) -> None:
    with _runtime().transaction() as session:
        tenant = create_tenant(session, slug, name)
        click.echo(f"tenant {tenant.slug} created (id {tenant.id})")


@user_cli.command("create")
@click.argument("tenant_slug")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def user_create(tenant_slug: str, email: str, name: str, role: str, password: str) -> None:
    with _runtime().transaction() as session:
        try:
            user = create_user(session, _tenant_id(session, tenant_slug), email, name, password, Role(role))
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from exc
        click.echo(f"user {user.email} ({user.role}) created")


def _issue_token(tenant_slug: str, name: str, create: Callable[[Session, int, str], str], what: str) -> None:
    with _runtime().transaction() as session:
        plain = create(session, _tenant_id(session, tenant_slug), name)
    click.echo(f"{what} {name!r} for {tenant_slug} (store it now, it is not shown again):")
    click.echo(plain)  # the last line: scripts take it from there


@token_cli.command("create")
@click.argument("tenant_slug")
@click.option("--name", default="api", show_default=True)
def token_create(tenant_slug: str, name: str) -> None:
    """Create an API token; the secret is the last line printed (shown once)."""
    _issue_token(tenant_slug, name, create_api_token, "API token")


@wallboard_cli.command("create")
@click.argument("tenant_slug")
@click.option("--name", default="wall display", show_default=True)
def wallboard_create(tenant_slug: str, name: str) -> None:
    """Create a read-only wallboard token; open /wall?kiosk=1&wallboard_token=<token> on the screen."""
    _issue_token(tenant_slug, name, create_wallboard_token, "wallboard token")


def register_cli(server: Flask) -> None:
    for group in (db_cli, tenant_cli, user_cli, token_cli, wallboard_cli, demo_cli, ml_cli):
        server.cli.add_command(group)
