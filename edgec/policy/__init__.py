"""Policies: the CI gate's checks on a valid spec and its compiled output (`edgec check`)."""
