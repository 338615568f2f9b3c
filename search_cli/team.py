"""The team workspace at the command line: accounts (`users`), groups (`groups`), which
restricted productions each group may read (`access`), and a team's work as one JSON file
(`workspace export|import`). The work is index.team's and index.workspace_transfer's."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import click

from foiarchive.archive import Archive
from foiarchive.index.catalog import Catalog
from foiarchive.index.marks import Marks
from foiarchive.index.query import Mark, Node, PageKeys
from foiarchive.index.search import SearchRequest
from foiarchive.index.team import OWNER, ROLES, Team, TeamError, Viewer
from foiarchive.index.workspace_transfer import export_workspace, import_workspace
from foiarchive.search_cli.options import _archive, _format_option, _friendly_errors
from foiarchive.search_cli.output import emit_json, printable, table

_PASSWORD_STDIN = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)


AS_OPTION = click.option(
    "--as",
    "as_account",
    default="",
    metavar="ACCOUNT",
    help="Search as this account of the workspace: its groups' restricted productions, tags and "
    "notes, its stars and reads. Default: everything, with every group's tags and notes.",
)


@contextlib.contextmanager
def seen_as(
    archive: Archive, catalog: Catalog, request: SearchRequest, account: str
) -> Iterator[tuple[SearchRequest, Viewer, Marks | None]]:
    """Who a command-line search runs as (the archive's owner unless --as), and the request
    narrowed to that viewer (index.marks.Marks.narrowed). An archive without a workspace file
    is searched without creating one (its folder may be read-only): marks then stand for
    nothing."""
    if not account and not archive.layout.workspace_file.exists():
        yield replace(request, marks=_nothing), OWNER, None
        return
    with archive.workspace() as workspace:
        team = Team(workspace)
        viewer = team.viewer(team.existing_user(account)) if account else OWNER
        marks = Marks(workspace)
        yield marks.narrowed(request, viewer, catalog.restricted_productions()), viewer, marks


def _nothing(mark: Mark) -> Node:
    return PageKeys(frozenset())


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    value: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return value


def _team(ctx: click.Context) -> Team:
    workspace = _archive(ctx).workspace()
    ctx.call_on_close(workspace.close)
    return Team(workspace)


# -- users ------------------------------------------------------------------------------------
@click.group("users")
def users_group() -> None:
    """Accounts of the team workspace (ARCHIVE/workspace.sqlite); `foiarchive serve` signs
    them in once the first exists (restart a running server after adding it)."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), default="reader", show_default=True)
@_PASSWORD_STDIN
@click.pass_context
@_friendly_errors
def users_add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Add an account (its password asked twice, kept as an Argon2 hash)."""
    user = _team(ctx).add_user(name, _password(password_stdin), role)
    click.echo(f"account {user.name} added ({user.role})")


@users_group.command("list")
@_format_option(["table", "json"], "table")
@click.pass_context
@_friendly_errors
def users_list(ctx: click.Context, output_format: str) -> None:
    users = _team(ctx).users()
    if output_format == "json":
        emit_json([u.to_dict() for u in users])
        return
    rows = [[u.name, u.role, "disabled" if u.disabled else "", ", ".join(u.groups)] for u in users]
    click.echo(table(rows, ["account", "role", "state", "groups"]))


@users_group.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the account again.")
@click.pass_context
@_friendly_errors
def users_disable(ctx: click.Context, name: str, enable: bool) -> None:
    """Disable an account: its sessions end now, its tokens stop working."""
    _team(ctx).set_disabled(name, not enable)
    click.echo(f"account {name} {'enabled' if enable else 'disabled'}")


@users_group.command("passwd")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), help="Also give the account this role.")
@_PASSWORD_STDIN
@click.pass_context
@_friendly_errors
def users_passwd(ctx: click.Context, name: str, role: str | None, password_stdin: bool) -> None:
    """Set an account's password (its sessions end)."""
    team = _team(ctx)
    team.existing_user(name)
    team.set_password(name, _password(password_stdin))
    if role:
        team.set_role(name, role)
    click.echo(f"password of {name} changed")


@users_group.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.pass_context
@_friendly_errors
def users_role(ctx: click.Context, name: str, role: str) -> None:
    _team(ctx).set_role(name, role)
    click.echo(f"{name} is now {role}")


@users_group.command("token")
@click.argument("name")
@click.option("--label", default="token", help="What the token is for.")
@click.option("--revoke", is_flag=True, help="Revoke every token of the account instead.")
@click.pass_context
@_friendly_errors
def users_token(ctx: click.Context, name: str, label: str, revoke: bool) -> None:
    """A personal API token ('Authorization: Bearer TOKEN'), shown this once."""
    team = _team(ctx)
    if revoke:
        click.echo(f"{team.revoke_tokens(name)} tokens of {name} revoked")
        return
    click.echo(team.new_token(name, label))


# -- groups -----------------------------------------------------------------------------------
@click.group("groups")
def groups_group() -> None:
    """Groups of accounts: restricted productions are granted to groups, notes and tags are
    shared with them."""


@groups_group.command("add")
@click.argument("name")
@click.argument("members", nargs=-1)
@click.pass_context
@_friendly_errors
def groups_add(ctx: click.Context, name: str, members: tuple[str, ...]) -> None:
    team = _team(ctx)
    team.add_group(name)
    for member in members:
        team.join(name, member)
    click.echo(f"group {name} added")


@groups_group.command("join")
@click.argument("group")
@click.argument("members", nargs=-1, required=True)
@click.option("--leave", is_flag=True, help="Take the accounts out of the group instead.")
@click.pass_context
@_friendly_errors
def groups_join(ctx: click.Context, group: str, members: tuple[str, ...], leave: bool) -> None:
    team = _team(ctx)
    for member in members:
        team.join(group, member, member=not leave)
    click.echo(f"group {group}: {len(members)} {'left' if leave else 'joined'}")


@groups_group.command("remove")
@click.argument("name")
@click.pass_context
@_friendly_errors
def groups_remove(ctx: click.Context, name: str) -> None:
    _team(ctx).remove_group(name)
    click.echo(f"group {name} removed")


@groups_group.command("list")
@_format_option(["table", "json"], "table")
@click.pass_context
@_friendly_errors
def groups_list(ctx: click.Context, output_format: str) -> None:
    groups = _team(ctx).groups()
    if output_format == "json":
        emit_json([g.to_dict() for g in groups])
        return
    rows = [[g.name, ", ".join(g.members), ", ".join(g.productions)] for g in groups]
    click.echo(table(rows, ["group", "members", "restricted productions granted"]))


# -- access -----------------------------------------------------------------------------------
@click.group("access")
def access_group() -> None:
    """Which group may read which restricted production, and who opened what."""


@access_group.command("grant")
@click.argument("group")
@click.argument("production")
@click.pass_context
@_friendly_errors
def access_grant(ctx: click.Context, group: str, production: str) -> None:
    _check_production(ctx, production)
    _team(ctx).grant(group, production)
    click.echo(f"group {group} may read {production}")


@access_group.command("revoke")
@click.argument("group")
@click.argument("production")
@click.pass_context
@_friendly_errors
def access_revoke(ctx: click.Context, group: str, production: str) -> None:
    _team(ctx).grant(group, production, granted=False)
    click.echo(f"group {group} may no longer read {production}")


@access_group.command("list")
@_format_option(["table", "json"], "table")
@click.pass_context
@_friendly_errors
def access_list(ctx: click.Context, output_format: str) -> None:
    grants = [(g.name, p) for g in _team(ctx).groups() for p in g.productions]
    if output_format == "json":
        emit_json([{"group": g, "production": p} for g, p in grants])
        return
    click.echo(table([[g, p] for g, p in grants], ["group", "production"]))


@access_group.command("log")
@click.option("--user", default="", help="Only this account's openings.")
@click.option("--limit", type=click.IntRange(1, 1_000_000), default=100, show_default=True)
@_format_option(["table", "json"], "table")
@click.pass_context
@_friendly_errors
def access_log(ctx: click.Context, user: str, limit: int, output_format: str) -> None:
    """Who opened which restricted document and when, newest first."""
    lines = _team(ctx).access_log(limit=limit, user=user)
    if output_format == "json":
        emit_json(lines)
        return
    columns = ["at", "user", "production", "document", "route"]
    click.echo(table([[printable(line[c]) for c in columns] for line in lines], columns))


def _check_production(ctx: click.Context, production: str) -> None:
    with _archive(ctx).catalog(read_only=True) as catalog:
        if catalog.production(production) is None:
            raise TeamError(f"no production {production!r} in this archive")


# -- workspace --------------------------------------------------------------------------------
@click.group("workspace")
def workspace_group() -> None:
    """A team's work (accounts, groups, grants, notes, tags, stars, reads) as one JSON file."""


@workspace_group.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@_friendly_errors
def workspace_export(ctx: click.Context, output: Path | None) -> None:
    with _archive(ctx).workspace() as workspace:
        text = json.dumps(export_workspace(workspace), indent=1, ensure_ascii=False)
    if output is None:
        click.echo(text)
        return
    try:
        output.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise TeamError(f"{output}: cannot write: {exc.strerror}") from None


@workspace_group.command("import")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
@_friendly_errors
def workspace_import(ctx: click.Context, source: Path) -> None:
    """Merge an export into this archive's workspace (what exists is kept)."""
    try:
        data = json.loads(source.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TeamError(f"{source}: cannot read a workspace export: {exc}") from None
    with _archive(ctx).workspace() as workspace:
        try:
            added = import_workspace(workspace, data)
        except TeamError as exc:
            raise TeamError(f"{source}: {exc}") from None
    click.echo(", ".join(f"{count} {what}" for what, count in added.items()) + " added")


def register(cli: click.Group) -> None:
    for command in (users_group, groups_group, access_group, workspace_group):
        cli.add_command(command)
