"""storysift's pipeline: options, assembly of the stages, and the command line."""
