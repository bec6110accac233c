"""The revisions, in order (``0001_initial`` ...); a landed revision is never edited."""
