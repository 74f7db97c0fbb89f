"""API layer: Starlette + strawberry over the domain services."""
