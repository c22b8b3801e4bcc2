"""The ``vernetztestadt`` CKAN plugin: wires CKAN interfaces to our modules.

Owns: which interfaces the extension implements and where each one is served
from. Must not hold behaviour itself; that lives in the modules it names.
"""
from __future__ import annotations

from typing import Any

import ckan.plugins as p
import ckan.plugins.toolkit as tk
from ckan.lib.plugins import DefaultTranslation

from . import cli, helpers


@tk.blanket.config_declarations
@tk.blanket.cli(cli.get_commands)
@tk.blanket.helpers(helpers.get_helpers)
class VernetzteStadtPlugin(p.SingletonPlugin, DefaultTranslation):
    p.implements(p.IConfigurer)
    p.implements(p.ITranslation)

    # IConfigurer
    def update_config(self, config: Any) -> None:
        tk.add_template_directory(config, "templates")
        tk.add_public_directory(config, "public")
        tk.add_resource("assets", "vernetztestadt")
