"""The core: every rule of the service, independent of any wire format."""
