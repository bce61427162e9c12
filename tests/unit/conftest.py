"""Unit tests start no VM; spawning host processes is allowed only where a test asks for it."""
