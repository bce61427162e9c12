"""Package storage: the Azure Blob API, served by Azurite on 127.0.0.1 by default."""
