"""Dockerfiles as data: parsing with line spans (parse)."""
