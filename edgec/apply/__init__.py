"""Apply: Terraform driven per layer, with reviewed-plan pinning and safety rails."""
