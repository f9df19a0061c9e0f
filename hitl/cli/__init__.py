"""The `hitl` command line. Each subcommand lives in its own module; heavy stacks are imported inside them."""
