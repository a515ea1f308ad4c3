"""What every domain shares and nothing domain-specific."""
