"""Policy as code: declarative rules over the evidence the engine computes."""
