"""Application packages built at run time from sources in the repo (no binaries committed)."""
