"""Local stand-ins for the services edgec talks to, for tests and the sandbox."""
