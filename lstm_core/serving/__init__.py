"""What a server shared by many sessions needs: byte-bounded caches and training jobs."""
