"""``ckan vernetztestadt ...``: the extension's CKAN commands.

Owns: argument parsing and terminal output (German first). Must not hold
logic of its own: each command calls the module that owns the work. Also
registers CKAN's ``search-index`` group in the form ``upstream.search_index``
gives it (one line instead of a traceback when the search engine fails).
"""
from __future__ import annotations

import sys
from collections import Counter

import ckan.plugins.toolkit as tk
import click

from . import demo, reindex, resources, upstream
from .harvest import runner, sources
from .quality import batch as quality_batch
from .quality import display as quality_display
from .validation import batch
from .validation.status import FAILED


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


@vernetztestadt.command("validate")
@click.argument("datasets", nargs=-1)
@click.option("--all", "everything", is_flag=True, help="Alle Datensätze / every dataset.")
@click.option("--only-failed", is_flag=True,
              help="Nur, was nicht bestanden hat / only what did not pass.")
@click.option("--sync", is_flag=True,
              help="Hier prüfen statt im Hintergrund / validate here, not in a job.")
def validate(datasets: tuple[str, ...], everything: bool, only_failed: bool, sync: bool) -> None:
    """Validate the tabular resources of DATASETS (names or ids) or --all.

    Exit code 1 when a file did not pass (with --sync), 2 on wrong usage."""
    if bool(datasets) == everything:
        raise click.UsageError("Datensätze nennen oder --all / name datasets or use --all")
    chosen = list(batch.targets(list(datasets), everything, only_failed))
    counts: Counter[str] = Counter()
    failed: list[str] = []
    with click.progressbar(chosen, label="Prüfe / validating", file=sys.stderr,
                           item_show_func=lambda item: item and item[1]["name"]) as items:
        for resource, package in items:
            status = batch.validate_now(resource, package) if sync else batch.queue(resource)
            counts[status] += 1
            if status in FAILED:
                failed.append(f"{package['name']} / {resource.get('name') or resource['id']}"
                              f": {status}")
    for line in failed:
        click.secho(line, fg="red")
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "0"
    click.echo(f"{len(chosen)} Ressourcen / resources: {summary}")
    if failed:
        sys.exit(1)


@vernetztestadt.group("metadata")
def metadata_group() -> None:
    """Metadatenqualität / metadata quality (quality/criteria.yaml)."""


def _echo_checked(checked: quality_batch.Checked, site: str) -> None:
    result = checked.assessment
    click.echo(f"{checked.dataset['name']}: {result.score}/100, "
               f"{quality_display.grade_label(result.grade)} / {result.grade}")
    for finding in result.findings:
        link = site + quality_display.link(finding, checked.dataset)
        click.secho(f"  {quality_display.LEVEL_LABELS[finding.level]}  "
                    f"{quality_display.text(finding)} -> {link}",
                    fg="red" if finding.level == "MUST" else None)


@metadata_group.command("check")
@click.argument("names", nargs=-1)
@click.option("--all", "everything", is_flag=True,
              help="Alle aktiven Datensätze, auch private / every active dataset.")
def metadata_check(names: tuple[str, ...], everything: bool) -> None:
    """Score and findings of the datasets NAMES (names or ids) or --all.

    Exit code 1 when a dataset breaks a MUST criterion, 2 on wrong usage."""
    if bool(names) == everything:
        raise click.UsageError("Datensätze nennen oder --all / name datasets or use --all")
    site = (tk.config.get("ckan.site_url") or "").rstrip("/")
    checked: list[quality_batch.Checked] = []
    try:
        for one in quality_batch.check(list(names), everything):
            _echo_checked(one, site)
            checked.append(one)
    except quality_batch.UnknownDataset as error:
        raise click.UsageError(f"Datensatz nicht gefunden / dataset not found: {error}") from None
    total = quality_batch.summary(checked)
    click.echo(f"{total.datasets} Datensätze geprüft, {total.breaking} mit MUSS-Verstoß, "
               f"Durchschnitt {total.average}/100 / {total.datasets} datasets checked, "
               f"{total.breaking} breaking a MUST criterion, average {total.average}/100")
    if total.breaking:
        sys.exit(1)


@vernetztestadt.group("sources")
def sources_group() -> None:
    """Harvest-Quellen aus harvesters/*.yaml / harvest sources from YAML."""


@sources_group.command("sync")
def sources_sync() -> None:
    """Create or update the harvest sources shipped in harvesters/ (idempotent)."""
    try:
        done = runner.sync(sources.shipped())
    except (runner.RunError, sources.SourceDefinitionError) as error:
        raise click.ClickException(str(error)) from None
    for name, what in done:
        click.echo(f"{name}: {what}")


@vernetztestadt.command("harvest")
@click.argument("names", nargs=-1)
@click.option("--all", "everything", is_flag=True,
              help="Alle Quellen aus harvesters/ / every shipped source.")
@click.option("-w", "--workers", type=click.IntRange(1, 64), default=None,
              help="Prozesse für Abruf und Import / processes that fetch and import "
                   "(default: ckanext.vernetztestadt.harvest.workers).")
def harvest(names: tuple[str, ...], everything: bool, workers: int | None) -> None:
    """Harvest the sources NAMES now, in this process, with a progress bar.

    Exit code 1 when a source reported errors (nothing of a failed document
    is published)."""
    if bool(names) == everything:
        raise click.UsageError("Quellen nennen oder --all / name sources or use --all")
    chosen = list(names) or [d.name for d in sources.shipped()]
    failed = False
    for name in chosen:
        with click.progressbar(length=0, label=f"Harvest {name}", file=sys.stderr) as bar:
            def progress(done: int, total: int, bar: object = bar) -> None:
                bar.length = total  # type: ignore[attr-defined]
                bar.update(1)  # type: ignore[attr-defined]
            try:
                result = runner.run(name, progress, workers)
            except runner.RunError as error:
                raise click.ClickException(str(error)) from None
        counts = ", ".join(f"{n} {status}" for status, n in sorted(result.counts.items()))
        click.echo(f"{name}: {counts or '0 Objekte / objects'} (Job {result.job_id})")
        for line in result.errors:
            click.secho(f"  {line}", fg="red")
        failed = failed or result.failed
    if failed:
        sys.exit(1)


@vernetztestadt.command("search-index-rebuild")
@click.option("-w", "--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Prozesse / worker processes (forked after CKAN is loaded).")
@click.option("-b", "--batch-size", type=click.IntRange(1, 5000), default=reindex.BATCH_SIZE,
              show_default=True, help="Datensätze je Stapel / datasets per batch.")
@click.option("-i", "--force", is_flag=True,
              help="Fehler melden und weitermachen / report errors and carry on.")
@click.option("-o", "--only-missing", is_flag=True,
              help="Nur fehlende Datensätze / only datasets the index lacks.")
@click.option("--keep-orphans", is_flag=True,
              help="Verwaiste Einträge behalten / keep index entries of deleted datasets.")
@click.option("-q", "--quiet", is_flag=True, help="Kein Fortschritt / no progress bar.")
def search_index_rebuild(workers: int, batch_size: int, force: bool, only_missing: bool,
                         keep_orphans: bool, quiet: bool) -> None:
    """Rebuild the search index like ``ckan search-index rebuild``, faster.

    Every dataset goes through CKAN's own indexing (package_show, every
    plugin's hooks); the per-dataset lookups of a batch come from a few bulk
    queries, each batch is written at once, and --workers processes share
    the batches. Exit code 1 when a dataset could not be indexed."""
    with click.progressbar(length=1, label="Indiziere / indexing", file=sys.stderr,
                           hidden=quiet) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = max(total, 1)  # type: ignore[attr-defined]
            bar.update(done - bar.pos)  # type: ignore[attr-defined]
        try:
            outcome = reindex.rebuild(workers, batch_size, force, only_missing=only_missing,
                                      progress=progress)
        except Exception as error:  # one line, not a traceback
            raise click.ClickException(
                f"Neuaufbau abgebrochen / rebuild stopped: {str(error)[:300]}") from None
    orphans = [] if keep_orphans else reindex.clear_orphans()
    click.echo(f"{outcome.indexed} Datensätze indiziert / datasets indexed"
               + (f", {len(orphans)} verwaiste entfernt / orphans removed" if orphans else ""))
    for package_id, error in outcome.failed:
        click.secho(f"  {package_id}: {error}", fg="red")
    if outcome.failed:
        sys.exit(1)


def get_commands() -> list[click.Command]:
    """Ours, and CKAN's ``search-index`` group as ``upstream`` guards it."""
    return [vernetztestadt, *upstream.get_commands()]
