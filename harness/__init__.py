"""vmapp-harness: hardware-in-the-loop tests for Azure Compute Gallery VM Applications."""

__version__ = "0.1.0"
