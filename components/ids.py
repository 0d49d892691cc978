"""Every component id used by more than one module, in one place."""
URL = "url"
