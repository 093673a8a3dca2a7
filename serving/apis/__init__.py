"""The APIs the server answers, each written once and called by every transport (and warmup)."""
