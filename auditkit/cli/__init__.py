"""The command line: a thin shell over the engine. Heavy modules are imported inside commands."""
