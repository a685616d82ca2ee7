"""moss-annotate pipeline: config, inputs, decoding, the Ray runner, writers and the CLI."""

__version__ = "0.1.0"
