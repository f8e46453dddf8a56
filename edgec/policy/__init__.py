"""Policies: the CI gate's checks on a valid spec, its IR and its compiled output (`edgec check`)."""
