"""polytag: a self-hostable user tag service speaking three vendors' tag APIs."""

__version__ = "0.1.0"

__all__ = ["__version__"]
