"""ecomgpt: command-line entry points and shared helpers of the EcomGPT toolkit."""

__version__ = "0.1.0"
