"""Domain layer: bounded contexts with models, services and pure rules."""
