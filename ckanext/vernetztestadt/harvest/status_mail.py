"""The status mail of harvest jobs, also where no web request is.

Owns: the chained action ``harvest_jobs_run``, which closes finished jobs
inside a Flask request context when its caller has none. ckanext-harvest
mails a job that finished with errors from that action
(``ckan.harvest.status_mail.errored``, set in ``runtime.ckan_config`` and
``test.ini``) and renders the mail with CKAN's ``render`` and ``url_for``,
which need such a context: ``ckan harvester run`` (cron) pushes one itself,
the portal's runner (``ckan vernetztestadt harvest``, the demo loader, the
tests) does not, and there the action would fail after marking the job
finished.

What is mailed stays ckanext-harvest's: a job with gather errors (a document
could not be had or read, nothing of the run published) or with refused
objects ("partly failed") counts as errored, and mails every sysadmin and
every admin of the source's organisation with an email address, one mail
each, in the text of ``templates/emails/`` (German, then English).

Must not touch: the mail's content (the templates), its recipients and when
it is sent (ckanext-harvest), the stages of a job (``framework``).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from flask import has_request_context

Action = Callable[[dict[str, Any], dict[str, Any]], Any]


@tk.chained_action
def harvest_jobs_run(original: Action, context: dict[str, Any],
                     data_dict: dict[str, Any]) -> Any:
    if has_request_context():
        return original(context, data_dict)
    # the request context CKAN keeps for work outside web requests (its own
    # url_for uses it the same way), with the site's URL and config
    from ckan.lib.helpers import _get_auto_flask_context

    request_context = _get_auto_flask_context()
    if request_context is None:  # no app was built: nothing could render anyway
        return original(context, data_dict)
    with request_context:
        return original(context, data_dict)


def get_actions() -> dict[str, Any]:
    # only beside ckanext-harvest: a chained action needs the action it
    # chains (test modules load the portal without harvest)
    return {"harvest_jobs_run": harvest_jobs_run} if p.plugin_loaded("harvest") else {}
