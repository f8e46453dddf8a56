"""Renderers: a Plan as terminal text or JSON (Markdown, SARIF and HTML come with the CI gate)."""
