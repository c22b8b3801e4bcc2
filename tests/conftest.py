"""Shared fixtures: every test here runs with the portal's plugins loaded,
and ``clean_db`` also applies the migrations of plugins with own tables."""
import ckan.plugins as p
import pytest

#: Plugins of test.ini that bring database migrations.
MIGRATING_PLUGINS = ("activity", "harvest", "vernetztestadt")


@pytest.fixture(autouse=True)
def _portal_plugins(with_plugins):
    """CKAN's pytest plugin unloads all plugins before the test loop;
    ``with_plugins`` loads the ones named in test.ini for each test."""
    yield


@pytest.fixture
def clean_db(reset_db, migrate_db_for, with_plugins):
    """CKAN's ``clean_db`` plus the plugin migrations (as ckanext-activity's
    own test suite does)."""
    reset_db()
    for plugin in MIGRATING_PLUGINS:
        if p.plugin_loaded(plugin):
            migrate_db_for(plugin)


@pytest.fixture(scope="module")
def demo_content(reset_db, reset_index, migrate_db_for):
    """``make portal``'s demo content (the city, the example upload, the
    harvested sources from their snapshots), loaded once for the module on a
    database reset for it (the next module's ``clean_db`` resets again)."""
    from ckanext.vernetztestadt import demo

    p.load_all()
    reset_db()
    reset_index()
    for plugin in MIGRATING_PLUGINS:
        migrate_db_for(plugin)
    demo.load()
    yield
    p.unload_all()


@pytest.fixture(scope="session")
def httpserver_listen_address():
    """Recorded sources are served on 127.0.0.1, the one internal address
    test.ini allows the validation to fetch from."""
    return ("127.0.0.1", 0)


@pytest.fixture
def runtime_dir():
    """A folder for runtime homes with an embedded PostgreSQL, outside
    pytest's ``tmp_path``: every pytest session that starts (``make test``
    runs several side by side) takes the others' access to pytest's base
    folder away again (mode 0700), and with it the unprivileged PostgreSQL
    user's access to a data directory below it (pg_ctl: Permission denied)."""
    import shutil
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp(prefix="vts-runtime-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
