"""Frictionless validation before publication.

Owns: everything about whether a tabular resource may be published —
``engine`` (the single
``validate_file`` function that uploads, URLs, harvesters and the CLI call),
``messages`` (German wording of errors).

How a file is written (encoding, delimiter, decimal mark) is decided by the
portal's one tabular reader, ``ckanext.vernetztestadt.tabular``.

Must not touch: search, harvesting, the dataset schemas' fields.
"""
from ..tabular import Declared, Dialect
from .engine import ERROR, FAILURE, SUCCESS, Limits, Outcome, file_format, validate_file

__all__ = ["ERROR", "FAILURE", "SUCCESS", "Declared", "Dialect", "Limits", "Outcome",
           "file_format", "validate_file"]
