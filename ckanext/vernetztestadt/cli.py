"""``ckan vernetztestadt ...``: the extension's CKAN commands.

Owns: argument parsing and terminal output (German first). Must not hold
logic of its own: each command calls the module that owns the work.
"""
from __future__ import annotations

import click

from . import demo, resources


@click.group(short_help="Befehle des Portals der Vernetzten Stadt / portal commands")
def vernetztestadt() -> None:
    """Gelsenkirchen portal commands."""


@vernetztestadt.command("init-portal")
@click.option("--demo/--no-demo", "with_demo", default=False, help="Load demo content.")
def init_portal(with_demo: bool) -> None:
    """Create the demo sysadmin (password printed once) and demo content."""
    name, password = demo.ensure_admin()
    if password:
        click.secho(f"Sysadmin '{name}' angelegt / created. Passwort / password "
                    f"(wird nur jetzt angezeigt / shown only now): {password}", fg="yellow")
    else:
        click.echo(f"Sysadmin '{name}' existiert bereits / already exists.")
    if with_demo:
        for line in demo.load():
            click.echo(line)


@vernetztestadt.command("info")
def info() -> None:
    """List the dataset schemas, table schemas and harvest sources shipped."""
    groups = {
        "Datensatz-Schemas / dataset schemas": resources.dataset_schema_files(),
        "Table Schemas": resources.table_schema_files(),
        "Harvest-Quellen / harvest sources": resources.harvest_source_files(),
    }
    for title, files in groups.items():
        click.echo(f"{title}: {len(files)}")
        for f in files:
            click.echo(f"  {f.name}")


def get_commands() -> list[click.Command]:
    return [vernetztestadt]
