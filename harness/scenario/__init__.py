"""Scenario files: what users write (YAML + jinja2), validated before any VM starts."""
