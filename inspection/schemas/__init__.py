"""Marshmallow schemas for the JSON API and for documents the app imports."""
