"""Metadata quality for data stewards (issue 15).

Owns: everything about how good a dataset's metadata is, judged by the
criteria of GovData's metadata-quality dashboard and the DCAT-AP.de
conventions — ``criteria`` (the declarative ``criteria.yaml``), ``assess``
(the pure score), ``display`` (texts, form links, the dataset page's box,
the facet), ``actions`` (the API and its permissions), ``views`` (the
organization overview), ``gate`` (refusing to publish a dataset that breaks
a MUST criterion) and ``batch`` (the CLI's selection).

Must not touch: the DCAT-AP.de export (``profiles``) or the stored datasets.
"""
