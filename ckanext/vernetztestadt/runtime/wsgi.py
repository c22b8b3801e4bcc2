"""The WSGI application that ``vernetztestadt-runtime serve`` runs under gunicorn.

Owns: building CKAN's application from the configuration file named by
``CKAN_INI`` (CKAN's loader also applies that file's logging sections and the
``CKAN_*`` variables), once in every gunicorn worker, and saying in the log
when a worker is ready. The ``ckan`` package ships no ``wsgi.py`` of its own
(the source tree's one is not installed).

Must not touch: the server's settings (workers, timeouts: ``cli``) or what
the configuration says (``ckan_config``).
"""
from __future__ import annotations

import logging
import os
from typing import Any

#: Logged once a worker has loaded CKAN (gunicorn logs only the start of a boot).
READY = "worker %d ready"


def make_application() -> Any:
    """gunicorn's application factory (``module:make_application()``)."""
    from ckan.cli import load_config
    from ckan.config.middleware import make_app

    app = make_app(load_config())  # reads $CKAN_INI
    logging.getLogger(__name__).info(READY, os.getpid())
    return app
