"""ckanext-vernetztestadt: the open-data portal of Gelsenkirchen on CKAN.

Modules, one responsibility each:

* ``plugin``    - wires CKAN interfaces to the modules below, nothing else.
* ``runtime``   - embedded PostgreSQL/Redis, ``ckan.ini``, ``make portal``.
* ``cli``       - ``ckan vernetztestadt ...`` commands.
* ``demo``      - the demo content ``make portal`` loads.
* ``resources`` - finding the shipped ``schemas/`` and ``harvesters/`` files.
* ``testing``   - the pytest plugin that starts services for the test suite.
"""
__version__ = "0.1.0"
