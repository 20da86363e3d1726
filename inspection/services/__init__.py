"""Domain services: plain functions with no request in them; they flush, callers commit."""
