"""One module per `numpynn` subcommand: add_arguments(parser) and run(args) -> int."""
