"""ecoops: self-hosted partner ecosystem operations."""

__version__ = "0.1.0"
