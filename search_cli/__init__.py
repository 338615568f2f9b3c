"""The `foiarchive` command: argument parsing, progress and output formats; no archive logic."""
