"""carbontwin."""
