"""The differ: desired IR x live IR -> a Plan of classified changes."""
