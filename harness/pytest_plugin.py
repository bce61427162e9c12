"""pytest plugin: scenarios as pytest items (filled in by the scenario runner work)."""
