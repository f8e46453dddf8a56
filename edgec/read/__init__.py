"""Readers: live state from each provider's API, in the IR's shape."""
