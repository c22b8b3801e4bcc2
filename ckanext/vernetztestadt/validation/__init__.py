"""Frictionless validation before publication.

Owns: everything about whether a tabular resource may be published —
``dialect`` (encoding, delimiter, decimal mark), ``engine`` (the single
``validate_file`` function that uploads, URLs, harvesters and the CLI call),
``messages`` (German wording of errors).

Must not touch: search, harvesting, the dataset schemas' fields.
"""
from .dialect import Declared, Dialect
from .engine import ERROR, FAILURE, SUCCESS, Limits, Outcome, file_format, validate_file

__all__ = ["ERROR", "FAILURE", "SUCCESS", "Declared", "Dialect", "Limits", "Outcome",
           "file_format", "validate_file"]
