"""Harvesting (ckanext-harvest): source definitions, parsers and harvesters.

Owns: everything that brings remote data into the portal as datasets.
Must not touch: search or the validation rules (it calls ``validation``).
"""
